import AuditEvents
import AuditInterpretation
import AuditSystem
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Formats and writes batches of events on a thread of its own, one batch at a time and in the
/// order given, while the caller reads and groups the next batch: reading and grouping is one
/// core's work and formatting the other's, so the two overlap instead of taking turns.
///
/// The caller hands a batch over with `print` and waits for the last one with `flush`. The
/// formatter, the batch and the output buffer belong to the worker from `print` until the batch
/// is written and to the caller after it: the semaphore orders every access, which is why the
/// class can say it is `Sendable`.
final class EventPrinter: @unchecked Sendable {
    static let batchSize = 256
    let format: EventFormat
    private let output: Int32
    private let queue = DispatchQueue(label: "swift-auditd.follow.printer")
    private let written = DispatchSemaphore(value: 0)
    private var inFlight = false
    private var batch: [AuditEvent] = []
    private let text = OutputBuffer(capacity: 4 << 20)
    private var interpreted: InterpretedEventFormatter?
    /// JSON costs several times what reading and grouping cost, and an event's line depends on that
    /// event alone: a batch is encoded in two halves at once, one encoder and buffer each.
    private var json: [EventJSONEncoder] = []
    private let secondHalf = OutputBuffer(capacity: 4 << 20)
    /// Why a write failed (the worker's errno, which the caller's thread cannot see).
    private var writeError: Errno?

    init(format: EventFormat, output: Int32) {
        self.format = format
        self.output = output
        if format == .interpreted { interpreted = InterpretedEventFormatter() }
        if format == .json { json = [EventJSONEncoder(), EventJSONEncoder()] }
    }

    /// Takes `events` to be formatted and written after the batches before it, and gives back in
    /// `events` the batch written before (for `EventGrouping.recycle`: its buffers go back to the
    /// thread that allocates them, not freed on this one); returns false if writing an earlier
    /// batch failed (the batch is then dropped).
    func print(_ events: inout [AuditEvent]) -> Bool {
        guard flush() == nil else { return false }
        swap(&events, &batch)
        inFlight = true
        queue.async { [self] in
            text.removeAll()
            switch format {
            // Events are read where they lie in the batch (a `for event in batch` copy is three
            // retains and releases each).
            case .lines:
                batch.withUnsafeBufferPointer { events in
                    for index in events.indices { events[index].bytes.withUnsafeBufferPointer { text.append($0) } }
                }
            case .interpreted:
                batch.withUnsafeBufferPointer { events in
                    for index in events.indices { interpreted!.format(events[index], into: text) }
                }
            case .json:
                encodeInHalves()
            }
            writeError = writeAll(text.bytes(from: 0))
            if writeError == nil && secondHalf.count > 0 { writeError = writeAll(secondHalf.bytes(from: 0)) }
            written.signal()
        }
        return true
    }

    private func encodeInHalves() {
        secondHalf.removeAll()
        let middle = batch.count / 2
        batch.withUnsafeBufferPointer { events in
            json.withUnsafeMutableBufferPointer { encoders in
                nonisolated(unsafe) let events = events, encoders = encoders
                DispatchQueue.concurrentPerform(iterations: 2) { [self] half in
                    let range = half == 0 ? 0..<middle : middle..<events.count
                    let writer = half == 0 ? text : secondHalf
                    for index in range { encoders[half].encode(events[index], into: writer) }
                }
            }
        }
    }

    /// Waits until every batch given is written; why a write failed, if one did (the output is
    /// closed, say), else nil.
    func flush() -> Errno? {
        if inFlight {
            written.wait()
            inFlight = false
        }
        return writeError
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> Errno? {
        var offset = 0
        while offset < bytes.count {
            let count = retryingOnInterrupt { write(output, bytes.baseAddress! + offset, bytes.count - offset) }
            if count < 0 { return Errno.current }
            offset += count
        }
        return nil
    }
}
