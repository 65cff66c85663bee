import AuditEvents
import Foundation
import Logging

/// The stdin side: bytes in, lines cut (`LineBuffer`), events reassembled (`EventAssembler`, the
/// events library's, as `follow` uses it), each event encoded as its OTLP LogRecord
/// (`LogRecordEncoder`) straight into a queue frame, the frames appended to the queue. It never
/// waits on the network; with `queue_full_action = block` it waits for room in the queue.
public final class IngestPipeline: @unchecked Sendable {
    // Guarded by `lock`; separate properties, so a line handed out by one may be fed to the other.
    private var lines = LineBuffer(capacity: 1 << 20, maxLineLength: 1 << 20)
    private var assembler: EventAssembler
    private var encoder = LogRecordEncoder()
    /// The ended events' frames, reused from chunk to chunk.
    private var frames = QueueFrames()
    private var lastSync: ContinuousClock.Instant
    private var finished = false
    private var reportedMalformed = false

    private let lock = NSLock()
    private let start = ContinuousClock.now
    private let queue: DurableQueue
    private let counters: ExporterCounters
    private let syncInterval: Duration
    private let logger: Logger

    public init(queue: DurableQueue, endOfEventTimeout: Duration, counters: ExporterCounters,
                syncInterval: Duration, logger: Logger) {
        self.queue = queue
        self.counters = counters
        self.syncInterval = syncInterval
        self.logger = logger
        assembler = EventAssembler(timeoutSeconds: Int(endOfEventTimeout.components.seconds))
        lastSync = start
    }

    /// Takes a chunk of standard input; whole lines are grouped, a partial one is kept.
    public func ingest(_ bytes: ArraySlice<UInt8>) throws(QueueStorageError) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        bytes.withUnsafeBytes { lines.append($0) }
        let now = milliseconds()
        var count = 0
        while lines.nextLine({ line in
            guard !line.isEmpty else { return }
            count += 1
            if let why = assembler.add(line: line, now: now), !reportedMalformed {
                reportedMalformed = true
                logger.warning("a line is not an audit record (\(why)), not exported: \(String(decoding: line.prefix(120), as: UTF8.self))")
            }
        }) != nil {}
        counters.update { $0.linesRead += count }
        try enqueueEnded()
    }

    /// Ends events whose records stopped coming, and makes the queue durable every `syncInterval`.
    public func tick() throws(QueueStorageError) {
        // Called on the cooperative pool: while the stdin thread holds the lock (busy, or blocked on
        // a full queue with `block`), this tick is skipped rather than holding a pool thread.
        guard lock.try() else { return }
        defer { lock.unlock() }
        guard !finished else { return }
        assembler.endIdleEvents(now: milliseconds())
        try enqueueEnded()
        let now = ContinuousClock.now
        if now - lastSync >= syncInterval {
            try queue.sync()
            lastSync = now
        }
    }

    /// End of input or SIGTERM: every open event is queued, and the queue made durable.
    public func finish() throws(QueueStorageError) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        let rest = lines.takeRemainder()
        if !rest.isEmpty { rest.withUnsafeBufferPointer { _ = assembler.add(line: $0, now: milliseconds()) } }
        assembler.finish()
        try enqueueEnded()
        try queue.sync()
    }

    private func milliseconds() -> Int64 {
        let elapsed = (ContinuousClock.now - start).components
        return elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
    }

    private func enqueueEnded() throws(QueueStorageError) {
        counters.update { $0.malformedLines = assembler.counters.malformedLines }
        frames.removeAll()
        let observed = UInt64(max(0, Date().timeIntervalSince1970 * 1e9))
        while let event = assembler.nextEvent() {
            frames.append { encoder.encode(event, observedUnixNanoseconds: observed, into: &$0) }
        }
        guard !frames.isEmpty else { return }
        let dropped = try queue.append(frames)
        // Queued counts every event handed to the queue; dropped, every one that left it unsent
        // (with drop_oldest, older events make room for these).
        counters.update { $0.eventsQueued += frames.count; $0.eventsDropped += dropped }
        if dropped > 0 {
            logger.warning("queue full (\(queue.fullAction.rawValue)): dropped \(dropped) events")
        }
    }
}
