import Logging
import Synchronization

/// Keeps every diagnostic a daemon logs, so a test can check what it said and how often.
public final class CapturedLog: Sendable {
    private let entries = Mutex<[String]>([])

    public init() {}

    /// Each message as "LEVEL: text", in the order logged.
    public var messages: [String] { entries.withLock { $0 } }

    /// A logger whose messages end up in `messages`.
    public var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }

    /// How many messages contain `text`.
    public func count(containing text: String) -> Int { messages.filter { $0.contains(text) }.count }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.entries.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}
