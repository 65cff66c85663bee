import AuditRemote
import NIOCore
import RemoteProtocol
import Synchronization

/// Where the remote listener leaves what it receives for the record loop: the daemon's
/// `RemoteRecordSink`. The listener's event loop adds and never waits (a lock held for an append);
/// the record loop takes a bounded batch at a time, woken through the control pipe it already
/// polls beside the kernel socket.
///
/// Bounded by the listener, not by refusing here: a connection with `maximumPendingRecords`
/// records unacknowledged is not read from, and the loop acknowledges a record only once it is on
/// disk, so the queue holds at most that many records per connection (audisp-remote sends one
/// at a time). A slow disk therefore stops the clients (they wait for their ACK) instead of
/// growing this queue or losing a record. `peakDepth` shows how deep it got.
public final class RemoteInbox: RemoteRecordSink {
    /// One thing the listener handed over, in the order it did.
    public enum Entry: Sendable {
        case record(RemoteRecord)
        /// A DAEMON_ACCEPT or DAEMON_CLOSE the daemon writes as its own record.
        case listenerRecord(ListenerRecord)
    }

    private struct Queue {
        var entries = CircularBuffer<Entry>(initialCapacity: 256)
        var received: UInt64 = 0
        var peakDepth = 0
    }

    private let queue = Mutex(Queue())
    private let waiting = Atomic<Int>(0)
    private let control: DaemonControl
    /// Set by a record that found the queue empty, until the batch it came in ends. Only the
    /// listener's event loop touches it (`receive` and `receiveBatchEnded` are called there).
    private nonisolated(unsafe) var wakeAtBatchEnd = false

    init(control: DaemonControl) {
        self.control = control
    }

    /// A client's record; the loop is woken at the end of the listener's batch.
    public func receive(_ record: RemoteRecord) {
        if add(.record(record), isRecord: true) { wakeAtBatchEnd = true }
    }

    /// The listener decoded every frame of a read: one wake-up for all of them, if the loop may be
    /// asleep (the queue was empty when the first came), instead of one as the first arrives that
    /// sends the loop after a batch of one while the rest are still being decoded.
    public func receiveBatchEnded() {
        guard wakeAtBatchEnd else { return }
        wakeAtBatchEnd = false
        control.wake()
    }

    /// A DAEMON_ACCEPT or DAEMON_CLOSE: no batch follows, so the loop is woken now.
    public func write(_ record: ListenerRecord, client: RemoteClient?) {
        if add(.listenerRecord(record), isRecord: false) { control.wake() }
    }

    /// Appends `entry`; returns whether the queue was empty before (the loop may be asleep).
    private func add(_ entry: Entry, isRecord: Bool) -> Bool {
        let wasEmpty = queue.withLock { queue in
            queue.entries.append(entry)
            if isRecord { queue.received += 1 }
            queue.peakDepth = max(queue.peakDepth, queue.entries.count)
            return queue.entries.count == 1
        }
        waiting.add(1, ordering: .releasing)
        return wasEmpty
    }

    /// Whether anything waits: an atomic load, asked by the loop before it sleeps.
    var isEmpty: Bool { waiting.load(ordering: .acquiring) == 0 }

    /// Takes at most `limit` entries, oldest first, into `batch` (emptied first).
    func take(upTo limit: Int, into batch: inout [Entry]) {
        batch.removeAll(keepingCapacity: true)
        queue.withLock { queue in
            while batch.count < limit, let entry = queue.entries.popFirst() { batch.append(entry) }
        }
        waiting.subtract(batch.count, ordering: .releasing)
    }

    /// Records received from clients, and the most entries that waited at once.
    public var counts: (received: UInt64, waiting: Int, peakDepth: Int) {
        queue.withLock { ($0.received, $0.entries.count, $0.peakDepth) }
    }
}
