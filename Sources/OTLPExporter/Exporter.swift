import Dispatch
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The plugin: standard input → events → durable queue → OTLP/HTTP, until end of input or SIGTERM,
/// then what can be sent within `shutdown_timeout_seconds`, then exit 0 (the rest stays queued).
public final class Exporter: Sendable {
    public static let version = "0.1.0"

    let configuration: ExporterConfiguration
    let logger: Logger

    public init(configuration: ExporterConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the plugin on file descriptor `input`; returns the exit status.
    public func run(input: Int32 = STDIN_FILENO) async -> Int32 {
        let logger = self.logger
        let configuration = self.configuration
        let queue: DurableQueue
        do {
            queue = try DurableQueue(directory: configuration.queueDirectory, maxBytes: configuration.queueMaxBytes,
                                     fullAction: configuration.queueFullAction)
        } catch {
            logger.critical("cannot open the queue: \(error)")
            return 1
        }
        for note in queue.notes { logger.warning("queue recovery: \(note)") }
        if queue.eventCount > 0 { logger.info("\(queue.eventCount) events left queued by a previous run will be sent first") }

        let counters = ExporterCounters()
        let wake = AsyncWake()
        let shutdown = ShutdownSignal()
        let shutdownWake = AsyncWake()
        queue.onAppend { wake.signal() }
        let pipeline = IngestPipeline(queue: queue, endOfEventTimeout: configuration.endOfEventTimeout,
                                      counters: counters, syncInterval: configuration.syncInterval, logger: logger)
        let client = ExportClient(endpoint: configuration.endpoint, requestTimeout: configuration.requestTimeout)
        let framing = ExportRequestFraming(hostName: configuration.hostName ?? Self.hostName(), serviceName: configuration.serviceName,
                                           version: Self.version)
        let sender = BatchSender(queue: queue, client: client, framing: framing, counters: counters, wake: wake,
                                 shutdown: shutdown, configuration: configuration, logger: logger)
        let failure = FailureFlag()

        let stopRequested = ShutdownSignal()
        @Sendable func stop(_ why: String) {
            guard stopRequested.begin(why) else { return }
            // A reader blocked on a full queue must let go before its events can be finished.
            queue.close()
            do { try pipeline.finish() } catch {
                logger.error("cannot queue the last events: \(error)")
                failure.set()
            }
            // Only now, with the last events queued, may the sender take an empty queue for done.
            shutdown.begin(why)
            wake.signal()
            shutdownWake.signal()
        }

        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let signals = DispatchQueue(label: "swift-auditd-otlp.signals")
        let termination = DispatchSource.makeSignalSource(signal: SIGTERM, queue: signals)
        termination.setEventHandler { DispatchQueue.global().async { stop("SIGTERM") } }
        termination.resume()
        // auditd sends its plugins SIGHUP on reload; this plugin reads its file only at start.
        let reload = DispatchSource.makeSignalSource(signal: SIGHUP, queue: signals)
        reload.setEventHandler { logger.info("SIGHUP ignored: restart the plugin to read its configuration again") }
        reload.resume()

        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while !stopRequested.hasBegun {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { logger.error("reading standard input: \(String(cString: strerror(errno)))") }
                if count <= 0 { break }
                do {
                    try pipeline.ingest(buffer[0..<count])
                } catch {
                    logger.critical("cannot queue events: \(error)")
                    failure.set()
                    break
                }
            }
            stop("end of input")
        }
        reader.name = "stdin"
        reader.start()

        let statusPath = configuration.queueDirectory + "/status"
        @Sendable func writeStatus() {
            let text = counters.statusText(queuedEvents: queue.eventCount, queuedBytes: queue.byteCount)
            try? QueueFile.replace(statusPath, with: Array(text.utf8), directory: configuration.queueDirectory)
        }

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await sender.run() } catch is CancellationError {} catch {
                    logger.critical("sending stopped: \(error)")
                    failure.set()
                }
            }
            group.addTask {
                // At shutdown the sender gets `shutdownTimeout` to empty the queue, then is cancelled.
                while !shutdown.hasBegun && !Task.isCancelled { await shutdownWake.wait() }
                try? await Task.sleep(for: configuration.shutdownTimeout)
            }
            group.addTask {
                var ticks = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    do { try pipeline.tick() } catch {
                        logger.critical("cannot queue events: \(error)")
                        failure.set()
                        stop("queue error")
                    }
                    ticks += 1
                    if ticks % 10 == 0 { writeStatus() }
                }
            }
            await group.next()
            group.cancelAll()
        }
        await client.shutdown()
        writeStatus()
        let totals = counters.snapshot
        logger.info("stopping (\(shutdown.why ?? "?")): \(totals.eventsQueued) events queued, \(totals.eventsSent) sent, \(totals.eventsDropped) dropped, \(totals.eventsRejected) refused, \(queue.eventCount) left queued for the next start")
        return failure.isSet ? 1 : 0
    }

    static func hostName() -> String {
        var name = [UInt8](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}

/// Set when something went wrong that should make the exit status non-zero.
final class FailureFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
