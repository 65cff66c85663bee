@testable import AuditLog
import Testing

/// What a free-space sample decides, for every mark and action, without filling a disk
/// (DiskSpaceTests checks the writer carrying them out on a real, small file system).
@Suite struct DiskSpaceMarksTests {
    typealias Decision = DiskSpaceMarks.Decision

    /// A 1,000 MiB file system of 1 MiB blocks with `free` MiB available.
    static func sample(free: UInt64) -> SpaceSample {
        SpaceSample(availableBlocks: free, totalBlocks: 1000, blockSize: 1024 * 1024)
    }

    static func policy(spaceLeft: SpaceThreshold = .megabytes(100), spaceLeftAction: DiskAction = .syslog,
                       adminSpaceLeft: SpaceThreshold = .megabytes(50), adminSpaceLeftAction: DiskAction = .suspend)
        -> DiskSpacePolicy {
        DiskSpacePolicy(spaceLeft: spaceLeft, spaceLeftAction: spaceLeftAction, adminSpaceLeft: adminSpaceLeft,
                        adminSpaceLeftAction: adminSpaceLeftAction)
    }

    /// The marks under test and what each sample decided.
    struct Marks {
        var marks = DiskSpaceMarks()
        var policy = DiskSpaceMarksTests.policy()

        mutating func check(free: UInt64, failing: Bool = false) -> [Decision] {
            marks.check(DiskSpaceMarksTests.sample(free: free), policy: policy, writesFailing: failing)
        }

        mutating func adminCrossed(free: UInt64) -> Bool {
            marks.adminSpaceLeftCrossed(DiskSpaceMarksTests.sample(free: free), policy: policy)
        }
    }

    @Test func plentyOfSpaceDecidesNothing() {
        var subject = Marks()
        let decided = subject.check(free: 500)
        let admin = subject.adminCrossed(free: 500)
        #expect(decided.isEmpty)
        #expect(!admin)
        #expect(subject.marks == DiskSpaceMarks())
    }

    @Test func spaceLeftRunsOnceAndSyslogReArmsWhenSpaceReturns() {
        var subject = Marks()
        var decided = [subject.check(free: 99), subject.check(free: 80)]
        #expect(decided == [[.spaceLeft], []])
        #expect(subject.marks.spaceLeftActed)
        // Above the mark again: syslog is armed for the next time.
        decided = [subject.check(free: 100)]
        #expect(!subject.marks.spaceLeftActed)
        decided.append(subject.check(free: 99))
        #expect(decided == [[], [.spaceLeft]])
    }

    @Test func anActionOtherThanSyslogWaitsForARearmToRunAgain() {
        var subject = Marks()
        subject.policy.spaceLeftAction = .email
        var decided = [subject.check(free: 99), subject.check(free: 500), subject.check(free: 99)]
        #expect(decided == [[.spaceLeft], [], []])
        subject.marks.rearm()
        decided = [subject.check(free: 99)]
        #expect(decided == [[.spaceLeft]])
    }

    @Test func aPercentageMarkIsAShareOfTheFileSystem() {
        var subject = Marks()
        subject.policy.spaceLeft = .percent(25)
        let decided = [subject.check(free: 250), subject.check(free: 249)]
        #expect(decided == [[], [.spaceLeft]])
    }

    @Test func adminSpaceLeftRunsOnceAndOnlySyslogReArms() {
        var subject = Marks()
        var crossed = [subject.adminCrossed(free: 49), subject.adminCrossed(free: 10), subject.adminCrossed(free: 500)]
        // suspend: once, and not re-armed above the mark.
        #expect(crossed == [true, false, false])
        #expect(subject.marks.adminSpaceLeftActed)
        subject.policy.adminSpaceLeftAction = .syslog
        crossed = [subject.adminCrossed(free: 500), subject.adminCrossed(free: 49)]
        #expect(crossed == [false, true])
    }

    @Test func fewerThanFiveBlocksIsAFullDiskOnceUntilSpaceReturns() {
        var subject = Marks()
        var decided = [subject.check(free: 4), subject.check(free: 0)]
        #expect(decided == [[.diskFull], []])
        // A write that fails with ENOSPC meanwhile: already said.
        let again = subject.marks.diskFullReached()
        #expect(!again)
        // Room again while writes still fail: not recovered yet.
        decided = [subject.check(free: 500, failing: true)]
        #expect(subject.marks.diskFull)
        decided.append(subject.check(free: 500))
        #expect(!subject.marks.diskFull)
        decided.append(subject.check(free: 3))
        #expect(decided == [[], [.recovered], [.diskFull]])
    }

    @Test func aDiskThatRecoversBelowTheMarkIsSaidRecoveredThenLow() {
        var subject = Marks()
        let full = subject.marks.diskFullReached()
        let decided = subject.check(free: 60)
        #expect(full)
        #expect(decided == [.recovered, .spaceLeft])
    }

    @Test func writesThatWorkAgainForgetTheFullDisk() {
        var marks = DiskSpaceMarks()
        let first = marks.diskFullReached()
        marks.writesRecovered()
        let recovered = marks.diskFull
        let second = marks.diskFullReached()
        #expect(first && !recovered && second)
    }
}
