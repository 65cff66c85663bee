@testable import AuditDaemon
import Testing

/// A disk that refuses writes: the daemon retries later each time and reports without flooding.
@Suite struct WriteFailuresTests {
    @Test func retriesWaitLongerAfterEachFailureUpToASecond() {
        var failures = WriteFailures()
        var delays: [Int64] = []
        for _ in 0..<10 {
            failures.count += 1
            delays.append(failures.retryDelayMilliseconds)
        }
        #expect(delays == [20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000])
    }

    @Test func theFirstFiveFailuresAreReportedThenEveryPowerOfTwo() {
        var failures = WriteFailures()
        var reported: [UInt64] = []
        for _ in 0..<100 {
            failures.count += 1
            if failures.shouldReport { reported.append(failures.count) }
        }
        #expect(reported == [1, 2, 3, 4, 5, 8, 16, 32, 64])
    }
}
