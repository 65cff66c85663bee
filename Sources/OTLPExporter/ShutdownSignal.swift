import Synchronization

/// Whether the plugin is stopping (end of input, SIGTERM), and why; set once.
public final class ShutdownSignal: Sendable {
    private let reason = Mutex<String?>(nil)

    public init() {}

    public var hasBegun: Bool { reason.withLock { $0 != nil } }
    public var why: String? { reason.withLock { $0 } }

    /// Returns whether this call began it (the first one does).
    @discardableResult
    public func begin(_ why: String) -> Bool {
        reason.withLock { current in
            guard current == nil else { return false }
            current = why
            return true
        }
    }
}
