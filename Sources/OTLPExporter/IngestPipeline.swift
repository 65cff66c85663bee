import Foundation
import Logging
import Synchronization

/// The stdin side: bytes in, lines split, events reassembled, events appended to the queue. It
/// never waits on the network; with `queue_full_action = block` it waits for room in the queue.
public final class IngestPipeline: @unchecked Sendable {
    private struct State {
        var assembler: any EventAssembling
        var partialLine: [UInt8] = []
        var lastSync: ContinuousClock.Instant
        var finished = false
    }

    private let lock = NSLock()
    private var state: State
    private let queue: DurableQueue
    private let counters: ExporterCounters
    private let syncInterval: Duration
    private let logger: Logger

    public init(queue: DurableQueue, assembler: any EventAssembling, counters: ExporterCounters,
                syncInterval: Duration, logger: Logger) {
        self.queue = queue
        self.counters = counters
        self.syncInterval = syncInterval
        self.logger = logger
        state = State(assembler: assembler, lastSync: .now)
    }

    /// Takes a chunk of standard input; whole lines are processed, a partial one is kept.
    public func ingest(_ bytes: ArraySlice<UInt8>) throws(QueueStorageError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard !state.finished else { return }
            let now = ContinuousClock.now
            var finished: [AuditEventLines] = []
            var lines = 0, malformed = 0
            var start = bytes.startIndex
            for index in bytes.indices where bytes[index] == 0x0A {
                let line: String
                if state.partialLine.isEmpty {
                    line = String(decoding: bytes[start..<index], as: UTF8.self)
                } else {
                    state.partialLine += bytes[start..<index]
                    line = String(decoding: state.partialLine, as: UTF8.self)
                    state.partialLine.removeAll(keepingCapacity: true)
                }
                start = index + 1
                guard !line.isEmpty else { continue }
                lines += 1
                guard let record = RecordLine(line) else {
                    malformed += 1
                    if malformed == 1 { logger.warning("not an audit record line, not exported: \(line.prefix(120))") }
                    continue
                }
                finished += state.assembler.add(record, at: now)
            }
            state.partialLine += bytes[start...]
            counters.update { $0.linesRead += lines; $0.malformedLines += malformed }
            try enqueue(finished)
        }
    }

    /// Closes events whose records stopped coming, and makes the queue durable every `syncInterval`.
    public func tick() throws(QueueStorageError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard !state.finished else { return }
            let now = ContinuousClock.now
            try enqueue(state.assembler.closeStale(at: now))
            if now - state.lastSync >= syncInterval {
                try queue.sync()
                state.lastSync = now
            }
        }
    }

    /// End of input or SIGTERM: every open event is queued, and the queue made durable.
    public func finish() throws(QueueStorageError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            guard !state.finished else { return }
            state.finished = true
            if !state.partialLine.isEmpty, let record = RecordLine(String(decoding: state.partialLine, as: UTF8.self)) {
                _ = state.assembler.add(record, at: .now)
            }
            try enqueue(state.assembler.closeAll())
            try queue.sync()
        }
    }

    private func enqueue(_ events: [AuditEventLines]) throws(QueueStorageError) {
        guard !events.isEmpty else { return }
        let observed = UInt64(max(0, Date().timeIntervalSince1970 * 1e9))
        let dropped = try queue.append(events.map { QueuedEvent($0, observedUnixNanoseconds: observed) })
        counters.update { $0.eventsQueued += events.count - dropped; $0.eventsDropped += dropped }
        if dropped > 0 {
            logger.warning("queue full (\(queue.fullAction.rawValue)): dropped \(dropped) events")
        }
    }
}
