/// When the records waiting in the writer's buffer go to the file.
///
/// As soon as the socket is drained: an isolated record is on disk after one receive and one
/// write, not after a batch window (a script that runs `ausearch` right after an action, or a
/// person watching `tail -F`, sees it at once). While records keep coming (each receive fills the
/// batch) they are gathered into one write, but none waits past the window: one window after the
/// first of them arrived a write is due, whatever the socket's state.
///
/// After a failed write the next attempt waits (`WriteFailures`), drained or not, so a disk that
/// refuses writes is not hammered. Time is passed in (monotonic milliseconds), so the schedule is
/// tested without a clock or a sleep.
struct WriteSchedule {
    /// The longest a received record waits in memory while records keep coming.
    let windowMilliseconds: Int64
    /// When a write is due whatever the socket's state: one window after the first record now
    /// waiting arrived, or, after a failed write, when the next attempt is due. nil: nothing waits.
    private(set) var dueAt: Int64?
    private(set) var failures = WriteFailures()

    init(windowMilliseconds: Int64) {
        self.windowMilliseconds = windowMilliseconds
    }

    /// Records were buffered at `now`: the window opens with the first of them.
    mutating func recordsBuffered(at now: Int64) {
        if dueAt == nil { dueAt = now + windowMilliseconds }
    }

    /// Whether to write now. `socketDrained`: the last receive found no more waiting (it did not
    /// fill the batch).
    func shouldWrite(at now: Int64, socketDrained: Bool) -> Bool {
        guard let dueAt else { return false }
        if now >= dueAt { return true }
        // A drained socket does not cut short the wait after a failure.
        return socketDrained && failures.count == 0
    }

    /// How long the loop may wait for the socket before a write is due; nil: no write is due.
    func millisecondsUntilDue(at now: Int64) -> Int64? {
        dueAt.map { max(0, $0 - now) }
    }

    /// The write succeeded. Returns how many writes had failed before it (0: none).
    @discardableResult
    mutating func wrote() -> UInt64 {
        dueAt = nil
        defer { failures = WriteFailures() }
        return failures.count
    }

    /// The write failed at `now`: the bytes stay buffered, and the next attempt waits longer.
    mutating func writeFailed(at now: Int64) {
        failures.count += 1
        dueAt = now + failures.retryDelayMilliseconds
    }
}

/// Consecutive failed writes of the log: how long to wait before the next try, and which to report.
struct WriteFailures {
    var count: UInt64 = 0
    /// 20 ms, doubling, at most a second.
    var retryDelayMilliseconds: Int64 { count == 0 ? 0 : min(1000, 20 << min(count - 1, 6)) }
    /// The first five, then every power of two.
    var shouldReport: Bool { count <= 5 || count & (count - 1) == 0 }
}
