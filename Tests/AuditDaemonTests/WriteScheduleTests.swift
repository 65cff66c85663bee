@testable import AuditDaemon
import Testing

/// When buffered records are written: at once when the socket is drained, at the latest when the
/// window closes while records keep coming, later after a failed write. Time is given, never
/// waited for (nanoseconds; `ms` and `µs` below make them readable).
@Suite struct WriteScheduleTests {
    func ms(_ value: Int64) -> Int64 { value * 1_000_000 }
    func µs(_ value: Int64) -> Int64 { value * 1_000 }
    func schedule() -> WriteSchedule { WriteSchedule(window: .milliseconds(20), minimumGap: .microseconds(500)) }

    @Test func nothingIsDueWhileNothingIsBuffered() {
        let schedule = schedule()
        #expect(!schedule.shouldWrite(at: ms(1_000), socketDrained: true))
        #expect(!schedule.shouldWrite(at: ms(1_000_000), socketDrained: false))
        #expect(schedule.nanosecondsUntilDue(at: ms(1_000)) == nil)
    }

    @Test func anIsolatedRecordIsWrittenAsSoonAsTheSocketIsDrained() {
        var schedule = schedule()
        schedule.recordsBuffered(at: ms(1_000))
        #expect(schedule.shouldWrite(at: ms(1_000), socketDrained: true))
        schedule.wrote(at: ms(1_000))
        // One that comes after a quiet moment longer than the gap: at once too.
        schedule.recordsBuffered(at: ms(1_005))
        #expect(schedule.shouldWrite(at: ms(1_005), socketDrained: true))
    }

    @Test func recordsThatKeepComingWaitForTheWindowAndNoLonger() {
        var schedule = schedule()
        schedule.recordsBuffered(at: ms(1_000))
        // Full batches, one after another: more is waiting, so the write waits too…
        for now in stride(from: ms(1_000), to: ms(1_020), by: Int(ms(1))) {
            schedule.recordsBuffered(at: now)
            #expect(!schedule.shouldWrite(at: now, socketDrained: false))
        }
        // …until the window that opened with the first of them closes.
        #expect(schedule.shouldWrite(at: ms(1_020), socketDrained: false))
        schedule.wrote(at: ms(1_020))
        #expect(!schedule.shouldWrite(at: ms(1_020), socketDrained: false))
        // The next window opens with the next record.
        schedule.recordsBuffered(at: ms(1_021))
        #expect(!schedule.shouldWrite(at: ms(1_040), socketDrained: false))
        #expect(schedule.shouldWrite(at: ms(1_041), socketDrained: false))
    }

    /// A trickle: records arrive one receive at a time, never filling a batch. Each is written when
    /// the receive that brought it drained the socket; and when the socket never drains (a record
    /// is always waiting behind the last), a write still happens each time the window closes.
    @Test func aTrickleIsWrittenOnEveryDrainAndAtTheLatestWhenTheWindowCloses() {
        var schedule = schedule()
        var writes: [Int64] = []
        for now in stride(from: ms(5_000), to: ms(5_100), by: Int(ms(3))) {
            schedule.recordsBuffered(at: now)
            if schedule.shouldWrite(at: now, socketDrained: true) {
                writes.append(now)
                schedule.wrote(at: now)
            }
        }
        #expect(writes == Array(stride(from: ms(5_000), to: ms(5_100), by: Int(ms(3)))))

        writes = []
        for now in stride(from: ms(6_000), to: ms(6_100), by: Int(ms(1))) {
            schedule.recordsBuffered(at: now)
            if schedule.shouldWrite(at: now, socketDrained: false) {
                writes.append(now)
                schedule.wrote(at: now)
            }
        }
        #expect(writes == [ms(6_020), ms(6_041), ms(6_062), ms(6_083)])
    }

    /// A stream the loop drains every 100 µs: one write per gap, not one per receive; the loop's
    /// wait ends with the gap, and the write held back then goes out.
    @Test func aSteadyStreamOfSmallBatchesIsWrittenOncePerGap() {
        var schedule = schedule()
        var writes: [Int64] = []
        for now in stride(from: ms(7_000), to: ms(7_003), by: Int(µs(100))) {
            schedule.recordsBuffered(at: now)
            if schedule.shouldWrite(at: now, socketDrained: true) {
                writes.append(now)
                schedule.wrote(at: now)
            }
        }
        #expect(writes == [ms(7_000), ms(7_000) + µs(500), ms(7_001), ms(7_001) + µs(500), ms(7_002), ms(7_002) + µs(500)])

        // Records buffered 100 µs after a write: the loop waits out the rest of the gap, no more.
        schedule.wrote(at: ms(8_000))
        schedule.recordsBuffered(at: ms(8_000) + µs(100))
        #expect(!schedule.shouldWrite(at: ms(8_000) + µs(100), socketDrained: true))
        #expect(schedule.nanosecondsUntilDue(at: ms(8_000) + µs(100)) == µs(400))
        #expect(schedule.shouldWrite(at: ms(8_000) + µs(500), socketDrained: true))
    }

    @Test func aDueWriteHappensWhateverTheSocketsState() {
        var schedule = schedule()
        schedule.recordsBuffered(at: 0)
        schedule.wrote(at: 0)
        schedule.recordsBuffered(at: ms(1))
        #expect(!schedule.shouldWrite(at: ms(5), socketDrained: false))
        #expect(schedule.shouldWrite(at: ms(21), socketDrained: false))
        #expect(schedule.shouldWrite(at: ms(21), socketDrained: true))
        #expect(schedule.nanosecondsUntilDue(at: ms(30)) == 0)
    }

    @Test func afterAFailedWriteADrainedSocketDoesNotCutTheWaitShort() {
        var schedule = schedule()
        schedule.recordsBuffered(at: ms(100))
        schedule.writeFailed(at: ms(100))
        // More records arrive; the retry stays where the failure put it.
        schedule.recordsBuffered(at: ms(105))
        #expect(!schedule.shouldWrite(at: ms(105), socketDrained: true))
        #expect(schedule.nanosecondsUntilDue(at: ms(105)) == ms(15))
        #expect(schedule.shouldWrite(at: ms(120), socketDrained: true))
        schedule.writeFailed(at: ms(120))
        #expect(schedule.nanosecondsUntilDue(at: ms(120)) == ms(40))
        #expect(schedule.wrote(at: ms(160)) == 2)
        // Writing again: a drained socket writes at once, after the gap.
        schedule.recordsBuffered(at: ms(200))
        #expect(schedule.shouldWrite(at: ms(200), socketDrained: true))
    }

    @Test func recordsHeldForTheGapAreWaitedOutWithoutWatchingTheSocket() {
        var schedule = schedule()
        #expect(!schedule.isWaitingOutGap(at: ms(1_000)), "nothing buffered, nothing held")
        schedule.recordsBuffered(at: ms(1_000))
        schedule.wrote(at: ms(1_000))
        schedule.recordsBuffered(at: ms(1_000) + µs(100))
        // Within the gap after the last write: held, and the loop sleeps until the gap ends.
        #expect(schedule.isWaitingOutGap(at: ms(1_000) + µs(100)))
        #expect(schedule.nanosecondsUntilDue(at: ms(1_000) + µs(100)) == µs(400))
        #expect(!schedule.shouldWrite(at: ms(1_000) + µs(100), socketDrained: true))
        // At its end: no longer held, and a drained socket writes.
        #expect(!schedule.isWaitingOutGap(at: ms(1_000) + µs(500)))
        #expect(schedule.shouldWrite(at: ms(1_000) + µs(500), socketDrained: true))
        // After a failed write the retry waits, but not as a gap: the socket is still watched.
        schedule.writeFailed(at: ms(1_001))
        #expect(!schedule.isWaitingOutGap(at: ms(1_001)))
    }
}
