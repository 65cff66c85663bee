import AuditTestKit
import Foundation
import Synchronization

/// A thread of its own on which a real-kernel test makes every system call it counts.
///
/// The kernel gives a task its audit context when the task is created, and only once auditing has
/// been on at least once since boot (`audit_alloc` returns early while `audit_ever_enabled` is
/// false): on a machine booted without `audit=1`, the test process's pool threads, made before the
/// daemon first switched auditing on, are never audited. This thread is made after the daemon is
/// running, and it proves it is audited before the test counts anything: a probe rule of its own
/// on `getpgrp`, called here until its event reaches the log.
public final class AuditedThread: Sendable {
    private let queue = JobQueue()

    /// Makes the thread (auditing must be on: start the daemon first) and proves the kernel audits
    /// it by a probe event in `log`. Throws, saying why, when no probe reaches the log in `timeout`.
    public init(provingWith log: String, timeout: Duration = .seconds(10)) throws {
        let thread = Thread { [queue] in
            while let job = queue.next() { job() }
        }
        thread.start()
        let probe = AuditRule(on: "getpgrp", purpose: "probe")
        try probe.add()
        defer { probe.delete() }
        let audited = eventually(timeout: timeout, interval: .milliseconds(20)) {
            run { _ = getpgrp() }
            return probe.syscallLines(in: log) > 0
        }
        guard audited else { throw NotAudited(log: log, timeout: timeout) }
    }

    /// Runs `body` on the thread and returns its result when it is done.
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        post {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    /// Makes `count` audited `getppid` calls on the thread.
    public func callGetppid(_ count: Int) {
        run { for _ in 0..<count { _ = getppid() } }
    }

    /// Starts `getppid` calls on the thread until stopped, `limit` calls, or `seconds` pass.
    public func startGetppidLoad(limit: Int, seconds: Double) -> GetppidLoad {
        let load = GetppidLoad()
        post { load.generate(limit: limit, seconds: seconds) }
        return load
    }

    private func post(_ job: @escaping @Sendable () -> Void) { queue.post(job) }

    deinit { queue.close() }

    /// The work handed to the thread, in order; `next()` is nil once closed and drained.
    private final class JobQueue: Sendable {
        private let jobs = Mutex<(pending: [@Sendable () -> Void], closed: Bool)>(([], false))
        private let posted = DispatchSemaphore(value: 0)

        func post(_ job: @escaping @Sendable () -> Void) {
            jobs.withLock { $0.pending.append(job) }
            posted.signal()
        }

        func close() {
            jobs.withLock { $0.closed = true }
            posted.signal()
        }

        func next() -> (@Sendable () -> Void)? {
            posted.wait()
            return jobs.withLock { state in state.pending.isEmpty ? nil : state.pending.removeFirst() }
        }
    }

    public struct NotAudited: Error, CustomStringConvertible {
        public let log: String
        public let timeout: Duration
        public var description: String {
            """
            a probe getpgrp call made on a thread created after auditing was on did not reach \(log) \
            within \(timeout): the thread is not audited, or the daemon does not write what the kernel sends \
            (a task is audited only if created after auditing was first switched on since boot)
            """
        }
    }
}

/// `getppid` calls made on an `AuditedThread` until stopped, a count, or a time limit.
public final class GetppidLoad: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let calls = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    fileprivate init() {}

    fileprivate func generate(limit: Int, seconds: Double) {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var made = 0
        while !stopFlag.load(ordering: .relaxed), made < limit {
            _ = getppid()
            made += 1
            calls.store(made, ordering: .relaxed)
            if made & 1023 == 0, ContinuousClock.now >= deadline { break }
        }
        done.signal()
    }

    /// Stops the calls and returns how many were made.
    @discardableResult
    public func stop() -> Int {
        stopFlag.store(true, ordering: .relaxed)
        return waitUntilDone()
    }

    /// Waits for the calls to end by themselves and returns how many were made.
    public func waitUntilDone() -> Int {
        done.wait()
        done.signal()
        return calls.load(ordering: .relaxed)
    }

    /// Waits until at least `count` calls were made (or the load ended); returns the count then.
    @discardableResult
    public func waitUntilMade(_ count: Int, timeout: Duration = .seconds(10)) -> Int {
        eventually(timeout: timeout) { made >= count }
        return made
    }

    public var made: Int { calls.load(ordering: .relaxed) }
}
