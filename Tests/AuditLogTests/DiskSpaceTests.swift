import AuditLog
import AuditTestKit
import Foundation
import Testing

/// Disk-space actions on a real, small tmpfs that fills up (root only; each test says why it
/// skips otherwise). `single`, `halt` and `exec` go through `RecordedSystemActions`: nothing is
/// ever run, and the machine is never halted.
@Suite(.serialized) struct DiskSpaceTests {
    struct Outcome {
        var writer: AuditLogWriter
        var events: EventLog
        var actions: RecordedSystemActions
        var appended = 0
    }

    func makeWriter(_ fs: SmallFileSystem, space: DiskSpacePolicy, rotation: RotationPolicy = RotationPolicy())
        throws -> Outcome {
        let events = EventLog(), actions = RecordedSystemActions()
        var space = space
        space.checkIntervalMilliseconds = 0
        let writer = try AuditLogWriter(settings: LogSettings(path: fs.appending("log/audit.log"), rotation: rotation, space: space),
                                        systemActions: actions, onEvent: events.sink)
        return Outcome(writer: writer, events: events, actions: actions)
    }

    /// Appends records of ~300 bytes in batches of 20 until `stop` says so or 20 000 were sent.
    func fill(_ outcome: inout Outcome, until stop: (Outcome) -> Bool) {
        while outcome.appended < 20_000, !stop(outcome) {
            outcome.appended += 1
            Records.append(outcome.writer, Records.syscall(outcome.appended, padding: 80))
            if outcome.appended % 20 == 0 { _ = try? outcome.writer.flush() }
        }
    }

    /// Every line in every log file is a whole record, and the serials are the ones appended,
    /// in order, each once.
    func expectWholeLines(_ fs: SmallFileSystem, files: [String] = ["log/audit.log"]) throws -> [Int] {
        var serials: [Int] = []
        for name in files {
            let path = fs.appending(name)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            #expect(try Scratch.endsWithNewline(path), "\(name) ends on a whole line")
            for line in try Scratch.lines(atPath: path) {
                #expect(line.hasPrefix("type=SYSCALL msg=audit(") && line.hasSuffix(String(repeating: "a", count: 80)),
                        "torn line in \(name): \(line.prefix(60))…")
                if let open = line.firstIndex(of: ":"), let close = line.firstIndex(of: ")") {
                    serials.append(Int(line[line.index(after: open)..<close]) ?? -1)
                }
            }
        }
        #expect(serials == serials.sorted() && Set(serials).count == serials.count)
        return serials
    }

    @Test func diskFullSuspendsWithoutATornLineAndResumeWritesAgainAsRoot() throws {
        let fs = try SmallFileSystem(kibibytes: 1024)
        defer { fs.unmount() }
        fs.ballast("ballast", leavingKiB: 160)
        var outcome = try makeWriter(fs, space: DiskSpacePolicy(diskFullAction: .suspend))
        fill(&outcome) { !$0.writer.isWriting }
        #expect(outcome.writer.suspension == .suspended(reason: "Audit daemon is suspending logging due to no space left on logging partition."))
        #expect(outcome.events.count(.diskFull) == 1)
        let beforeResume = try expectWholeLines(fs)
        #expect(!beforeResume.isEmpty)
        // Records arriving while suspended are counted, not written.
        for _ in 0..<5 {
            outcome.appended += 1
            Records.append(outcome.writer, Records.syscall(outcome.appended, padding: 80))
        }
        #expect(outcome.writer.recordsNotLogged == 5)
        // Space is freed; resume.
        try FileManager.default.removeItem(atPath: fs.appending("ballast"))
        outcome.writer.resume()
        #expect(outcome.writer.isWriting)
        let resumedFrom = outcome.appended + 1
        for _ in 0..<50 {
            outcome.appended += 1
            Records.append(outcome.writer, Records.syscall(outcome.appended, padding: 80))
        }
        try outcome.writer.flush()
        let after = try expectWholeLines(fs)
        #expect(after.last == outcome.appended)
        #expect(after.contains(resumedFrom))
        #expect(UInt64(after.count) + outcome.writer.recordsNotLogged + outcome.writer.recordsDropped == UInt64(outcome.appended),
                "every record is on disk or counted")
    }

    @Test func diskFullWithSyslogKeepsTheRecordsAndWritesThemWhenSpaceReturnsAsRoot() throws {
        let fs = try SmallFileSystem(kibibytes: 1024)
        defer { fs.unmount() }
        fs.ballast("ballast", leavingKiB: 120)
        var outcome = try makeWriter(fs, space: DiskSpacePolicy(diskFullAction: .syslog))
        fill(&outcome) { $0.events.count(.diskFull) > 0 }
        for _ in 0..<200 {
            outcome.appended += 1
            Records.append(outcome.writer, Records.syscall(outcome.appended, padding: 80))
            _ = try? outcome.writer.flush()
        }
        #expect(outcome.events.count(.diskFull) == 1, "the action runs once, not per write")
        #expect(outcome.writer.tornLinesCutBack > 0, "the full disk cut writes short in the middle of a line")
        _ = try expectWholeLines(fs)
        try FileManager.default.removeItem(atPath: fs.appending("ballast"))
        try outcome.writer.flush()
        #expect(outcome.events.count(.diskRecovered) == 1)
        let serials = try expectWholeLines(fs)
        #expect(serials.count == outcome.appended, "nothing was lost: the records waited in memory")
        #expect(outcome.writer.recordsDropped == 0)
    }

    @Test func spaceLeftThenAdminSpaceLeftActionsRunOnceEachAsRoot() throws {
        let fs = try SmallFileSystem(kibibytes: 1024)
        defer { fs.unmount() }
        var outcome = try makeWriter(fs, space: DiskSpacePolicy(
            spaceLeft: .percent(60), spaceLeftAction: .syslog,
            adminSpaceLeft: .percent(30), adminSpaceLeftAction: .exec("/usr/local/sbin/audit-space-helper"),
            diskFullAction: .suspend))
        fill(&outcome) { !$0.writer.isWriting }
        #expect(outcome.events.count(.spaceLow(admin: false)) == 1)
        #expect(outcome.events.messages.contains("Audit daemon is low on disk space for logging"))
        #expect(outcome.actions.executed == ["/usr/local/sbin/audit-space-helper"])
        #expect(outcome.events.count(.diskFull) == 0, "exec suspended logging before the disk filled")
        #expect(outcome.writer.suspension == .suspended(reason: "exec /usr/local/sbin/audit-space-helper"))
        _ = try expectWholeLines(fs)
        var info = statvfs()
        statvfs(fs.mountPoint, &info)
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        #expect(free < 1024 * 1024 * 30 / 100 + 64 * 1024 && free > 1024 * 1024 * 20 / 100,
                "the admin mark (30% of 1 MiB) was acted on near where it was crossed: \(free) bytes free")
    }

    @Test func diskFullRunsSingleAndHaltOnlyThroughTheSeamAsRoot() throws {
        for (action, level) in [(DiskAction.single, Runlevel.single), (.halt, .halt)] {
            let fs = try SmallFileSystem(kibibytes: 512)
            defer { fs.unmount() }
            fs.ballast("ballast", leavingKiB: 64)
            var outcome = try makeWriter(fs, space: DiskSpacePolicy(diskFullAction: action))
            fill(&outcome) { $0.events.count(.diskFull) > 0 }
            #expect(outcome.actions.runlevels == [level])
            #expect(outcome.events.count(.runlevelChanged(level)) == 1)
            _ = try expectWholeLines(fs)
        }
    }

    @Test func diskFullRotateRotatesAsRoot() throws {
        let fs = try SmallFileSystem(kibibytes: 512)
        defer { fs.unmount() }
        fs.ballast("ballast", leavingKiB: 64)
        var outcome = try makeWriter(fs, space: DiskSpacePolicy(diskFullAction: .rotate),
                                     rotation: RotationPolicy(action: .rotate, numLogs: 2))
        fill(&outcome) { $0.events.count(.diskFull) > 0 }
        #expect(outcome.writer.rotations == 1)
        #expect(FileManager.default.fileExists(atPath: fs.appending("log/audit.log.1")))
        _ = try expectWholeLines(fs, files: ["log/audit.log.1", "log/audit.log"])
    }

    @Test func aFailedReopenRunsDiskErrorActionThroughTheSeam() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let events = EventLog(), actions = RecordedSystemActions()
        let writer = try AuditLogWriter(settings: LogSettings(path: scratch.appending("audit.log"),
                                                              space: DiskSpacePolicy(diskErrorAction: .halt)),
                                        systemActions: actions, onEvent: events.sink)
        // A reload to a directory everyone can write: the reopen is refused.
        try FileManager.default.createDirectory(atPath: scratch.appending("open"), withIntermediateDirectories: false)
        chmod(scratch.appending("open"), 0o777)
        writer.apply(LogSettings(path: scratch.appending("open/audit.log"), space: DiskSpacePolicy(diskErrorAction: .halt)))
        #expect(actions.runlevels == [.halt])
        #expect(!writer.isWriting)
        #expect(events.messages.contains { $0.hasPrefix("Could not reopen a log after reconfigure") })
    }
}
