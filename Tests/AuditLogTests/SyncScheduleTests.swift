@testable import AuditLog
import Testing

/// `freq` as batched writes meet it: one sync after the write that carries the count past each
/// multiple of `freq`, never two for one write, never any for `freq = 0`.
@Suite struct SyncScheduleTests {
    @Test func aSyncFollowsTheWriteThatCrossesEachMultiple() {
        var schedule = SyncSchedule(freq: 50, recordsWritten: 0)
        var synced: [UInt64] = []
        for written in [20, 49, 50, 70, 99, 130, 260, 261] as [UInt64] where schedule.takeDue(recordsWritten: written) {
            synced.append(written)
        }
        // 130 crossed 100; 260 crossed 150, 200 and 250 at once: one sync.
        #expect(synced == [50, 130, 260])
        #expect(schedule.nextAt == 300)
    }

    @Test func theScheduleStartsFromTheRecordsAlreadyWritten() {
        #expect(SyncSchedule(freq: 50, recordsWritten: 120).nextAt == 150)
        #expect(SyncSchedule(freq: 50, recordsWritten: 150).nextAt == 200)
    }

    @Test func freqZeroNeverSyncs() {
        var schedule = SyncSchedule(freq: 0, recordsWritten: 0)
        let due = schedule.takeDue(recordsWritten: .max - 1)
        #expect(!due)
    }
}
