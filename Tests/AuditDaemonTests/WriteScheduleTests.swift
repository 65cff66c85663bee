@testable import AuditDaemon
import Testing

/// When buffered records are written: at once when the socket is drained, at the latest when the
/// window closes while records keep coming, later after a failed write. Time is given, never waited for.
@Suite struct WriteScheduleTests {
    let window: Int64 = 20

    @Test func nothingIsDueWhileNothingIsBuffered() {
        let schedule = WriteSchedule(windowMilliseconds: window)
        #expect(!schedule.shouldWrite(at: 1_000, socketDrained: true))
        #expect(!schedule.shouldWrite(at: 1_000_000, socketDrained: false))
        #expect(schedule.millisecondsUntilDue(at: 1_000) == nil)
    }

    @Test func anIsolatedRecordIsWrittenAsSoonAsTheSocketIsDrained() {
        var schedule = WriteSchedule(windowMilliseconds: window)
        schedule.recordsBuffered(at: 1_000)
        #expect(schedule.shouldWrite(at: 1_000, socketDrained: true))
    }

    @Test func recordsThatKeepComingWaitForTheWindowAndNoLonger() {
        var schedule = WriteSchedule(windowMilliseconds: window)
        schedule.recordsBuffered(at: 1_000)
        // Full batches, one after another: more is waiting, so the write waits too…
        for now in stride(from: Int64(1_000), to: 1_020, by: 1) {
            schedule.recordsBuffered(at: now)
            #expect(!schedule.shouldWrite(at: now, socketDrained: false))
        }
        // …until the window that opened with the first of them closes.
        #expect(schedule.shouldWrite(at: 1_020, socketDrained: false))
        schedule.wrote()
        #expect(!schedule.shouldWrite(at: 1_020, socketDrained: false))
        schedule.recordsBuffered(at: 1_021)
        #expect(schedule.millisecondsUntilDue(at: 1_021) == window)
    }

    /// A trickle: records arrive one at a time, never filling a batch, and the socket is never seen
    /// quiet for long. Each is written when the receive that brought it drained the socket, and a
    /// write that came due while the loop waited happens whatever the socket's state.
    @Test func aTrickleIsWrittenOnEveryDrainAndAtTheLatestWhenTheWindowCloses() {
        var schedule = WriteSchedule(windowMilliseconds: window)
        var writes: [Int64] = []
        for now in stride(from: Int64(5_000), to: 5_100, by: 3) {
            schedule.recordsBuffered(at: now)
            if schedule.shouldWrite(at: now, socketDrained: true) {
                writes.append(now)
                schedule.wrote()
            }
        }
        #expect(writes == Array(stride(from: Int64(5_000), to: 5_100, by: 3)))

        // The socket never drains (a record is always waiting behind the last): the window decides.
        writes = []
        for now in Int64(6_000)..<6_100 {
            schedule.recordsBuffered(at: now)
            if schedule.shouldWrite(at: now, socketDrained: false) {
                writes.append(now)
                schedule.wrote()
            }
        }
        #expect(writes == [6_020, 6_041, 6_062, 6_083])
    }

    @Test func aDueWriteHappensWhateverTheSocketsState() {
        var schedule = WriteSchedule(windowMilliseconds: window)
        schedule.recordsBuffered(at: 0)
        #expect(schedule.millisecondsUntilDue(at: 5) == 15)
        #expect(schedule.shouldWrite(at: 20, socketDrained: false))
        #expect(schedule.shouldWrite(at: 20, socketDrained: true))
        #expect(schedule.millisecondsUntilDue(at: 30) == 0)
    }

    @Test func afterAFailedWriteADrainedSocketDoesNotCutTheWaitShort() {
        var schedule = WriteSchedule(windowMilliseconds: window)
        schedule.recordsBuffered(at: 100)
        schedule.writeFailed(at: 100)
        // More records arrive; the retry stays where the failure put it.
        schedule.recordsBuffered(at: 105)
        #expect(!schedule.shouldWrite(at: 105, socketDrained: true))
        #expect(schedule.millisecondsUntilDue(at: 105) == 15)
        #expect(schedule.shouldWrite(at: 120, socketDrained: true))
        schedule.writeFailed(at: 120)
        #expect(schedule.millisecondsUntilDue(at: 120) == 40)
        #expect(schedule.wrote() == 2)
        // Writing again: a drained socket writes at once.
        schedule.recordsBuffered(at: 200)
        #expect(schedule.shouldWrite(at: 200, socketDrained: true))
    }
}
