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

    init(control: DaemonControl) {
        self.control = control
    }

    public func receive(_ record: RemoteRecord) { add(.record(record), isRecord: true) }

    public func write(_ record: ListenerRecord, client: RemoteClient?) { add(.listenerRecord(record), isRecord: false) }

    private func add(_ entry: Entry, isRecord: Bool) {
        let wasEmpty = queue.withLock { queue in
            queue.entries.append(entry)
            if isRecord { queue.received += 1 }
            queue.peakDepth = max(queue.peakDepth, queue.entries.count)
            return queue.entries.count == 1
        }
        waiting.add(1, ordering: .releasing)
        // One wake-up per batch the loop has not yet seen; the loop drains the pipe when it wakes.
        if wasEmpty { control.wake() }
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
