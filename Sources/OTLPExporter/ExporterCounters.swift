import Synchronization

/// What the plugin counted since it started, written to `queue_dir/status` (and logged at exit)
/// so an administrator, and the tests, can see what happened to every event.
public final class ExporterCounters: Sendable {
    public struct Values: Sendable, Equatable {
        public var linesRead = 0
        /// Lines that are not `[node=N ]type=T msg=audit(...)`: reported, not exported.
        public var malformedLines = 0
        /// Events handed to the queue (reassembled from standard input).
        public var eventsQueued = 0
        /// Events a full queue let go unsent: the oldest (`drop_oldest`), the new one (`drop_newest`),
        /// or one still waiting for room at shutdown (`block`).
        public var eventsDropped = 0
        public var eventsSent = 0
        public var batchesSent = 0
        /// Attempts that failed in a way that is retried (429/502/503/504, connection, timeout).
        public var retries = 0
        /// Batches a collector refused (other statuses), set aside in `rejected/`, and their events.
        public var batchesRejected = 0
        public var eventsRejected = 0
        /// `rejected_log_records` of partial successes: accepted requests whose records were not all kept.
        public var recordsRejectedByCollector = 0
    }

    private let values = Mutex(Values())

    public init() {}

    public var snapshot: Values { values.withLock { $0 } }

    public func update(_ change: (inout Values) -> Void) {
        values.withLock { change(&$0) }
    }

    /// The status file's text: `name = value` lines, auditd.conf's syntax.
    public func statusText(queuedEvents: Int, queuedBytes: Int) -> String {
        let v = snapshot
        return """
            lines_read = \(v.linesRead)
            malformed_lines = \(v.malformedLines)
            events_queued = \(v.eventsQueued)
            events_dropped = \(v.eventsDropped)
            events_sent = \(v.eventsSent)
            batches_sent = \(v.batchesSent)
            retries = \(v.retries)
            batches_rejected = \(v.batchesRejected)
            events_rejected = \(v.eventsRejected)
            records_rejected_by_collector = \(v.recordsRejectedByCollector)
            queue_events = \(queuedEvents)
            queue_bytes = \(queuedBytes)

            """
    }
}
