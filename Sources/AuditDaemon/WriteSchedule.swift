import AuditSystem
/// When the records waiting in the writer's buffer go to the file.
///
/// As soon as the socket is drained: an isolated record is on disk after one receive and one
/// write, not after a batch window (a script that runs `ausearch` right after an action, or a
/// person watching `tail -F`, sees it at once). While records keep coming they are gathered into
/// fewer writes, and none waits past the window, whatever the socket's state:
/// - a receive that fills the batch says more is waiting: no write yet;
/// - a drained socket within `minimumGap` of the last write says records keep trickling in
///   faster than the loop needs to write them one batch at a time: the write waits for the gap to
///   end (the loop sleeps until then unless more arrive), so a steady stream of small batches
///   costs one `write` per gap rather than one per receive. A record that comes after a quiet
///   moment (longer than the gap) is written at once.
///
/// After a failed write the next attempt waits (`WriteFailures`), drained or not, so a disk that
/// refuses writes is not hammered. Times are monotonic nanoseconds passed in, so the schedule is
/// tested without a clock or a sleep.
struct WriteSchedule {
    /// The longest a received record waits in memory while records keep coming.
    let window: Int64
    /// The shortest time between the last write and a write for a drained socket.
    let minimumGap: Int64
    /// When a write is due whatever the socket's state: one window after the first record now
    /// waiting arrived, or, after a failed write, when the next attempt is due. nil: nothing waits.
    private(set) var dueAt: Int64?
    /// When the last write (that worked) happened.
    private var lastWriteAt: Int64?
    private(set) var failures = WriteFailures()

    /// Half a millisecond: at most 2,000 writes a second for a stream of records, and at most that
    /// much added to a record that follows another within it.
    static let defaultMinimumGap: Duration = .microseconds(500)

    init(window: Duration, minimumGap: Duration = defaultMinimumGap) {
        self.window = window.nanoseconds
        self.minimumGap = minimumGap.nanoseconds
    }

    /// Records were buffered at `now`: the window opens with the first of them.
    mutating func recordsBuffered(at now: Int64) {
        if dueAt == nil { dueAt = now + window }
    }

    /// Whether to write now. `socketDrained`: the last receive (or wait) found no more waiting.
    func shouldWrite(at now: Int64, socketDrained: Bool) -> Bool {
        guard let dueAt else { return false }
        if now >= dueAt { return true }
        // A drained socket does not cut short the wait after a failure.
        guard socketDrained, failures.count == 0 else { return false }
        return now >= drainedWriteAllowedAt
    }

    /// How long the loop may wait for the socket before a write is due; nil: no write is due.
    func nanosecondsUntilDue(at now: Int64) -> Int64? {
        guard var next = dueAt else { return nil }
        if failures.count == 0 { next = min(next, drainedWriteAllowedAt) }
        return max(0, next - now)
    }

    /// Whether buffered records wait for the gap after the last write to end. The loop then sleeps
    /// until it ends without watching the socket: what arrives meanwhile is taken in one receive
    /// at the end of the gap, not a receive (and a wake-up) for each record as it comes.
    func isWaitingOutGap(at now: Int64) -> Bool {
        dueAt != nil && failures.count == 0 && now < drainedWriteAllowedAt
    }

    private var drainedWriteAllowedAt: Int64 { lastWriteAt.map { $0 + minimumGap } ?? .min }

    /// The write at `now` succeeded. Returns how many writes had failed before it (0: none).
    @discardableResult
    mutating func wrote(at now: Int64) -> UInt64 {
        dueAt = nil
        lastWriteAt = now
        defer { failures = WriteFailures() }
        return failures.count
    }

    /// The write failed at `now`: the bytes stay buffered, and the next attempt waits longer.
    mutating func writeFailed(at now: Int64) {
        failures.count += 1
        dueAt = now + failures.retryDelay.nanoseconds
    }
}

/// Consecutive failed writes of the log: how long to wait before the next try, and which to report.
struct WriteFailures {
    var count: UInt64 = 0
    /// 20 ms, doubling, at most a second.
    var retryDelayMilliseconds: Int64 { count == 0 ? 0 : min(1000, 20 << min(count - 1, 6)) }
    var retryDelay: Duration { .milliseconds(retryDelayMilliseconds) }
    /// The first five, then every power of two.
    var shouldReport: Bool { count <= 5 || count & (count - 1) == 0 }
}
