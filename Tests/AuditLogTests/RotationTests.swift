import AuditLog
import AuditTestKit
import Foundation
import Testing

/// Rotation as auditd does it (src/auditd-event.c: `check_log_file_size`, `rotate_logs`,
/// `shift_logs`, `check_excess_logs`), asserted on the files' names, contents and modes.
@Suite struct RotationTests {
    func writer(_ scratch: Scratch, rotation: RotationPolicy, group: gid_t? = nil,
                events: EventLog = EventLog()) throws -> AuditLogWriter {
        try AuditLogWriter(settings: LogSettings(path: scratch.appending("audit.log"), group: group, rotation: rotation),
                           systemActions: RecordedSystemActions(), onEvent: events.sink)
    }

    /// Writes one record per generation and rotates after each.
    func generations(_ writer: AuditLogWriter, _ count: Int) throws {
        for generation in 1...count {
            Records.append(writer, Records.syscall(generation, key: "gen\(generation)"))
            try writer.flush()
            writer.rotate(reason: "test")
        }
    }

    func key(of name: String, in scratch: Scratch) throws -> String? {
        try scratch.lines(name).first.flatMap { $0.components(separatedBy: "key=\"").last?.dropLast().description }
    }

    @Test func theSizeTriggerEndsTheFileWithTheLineThatReachesTheWholeMebibyte() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 1, action: .rotate, numLogs: 3))
        // ~1.2 MiB in batches of 100 lines: the crossing falls inside a batch.
        for serial in 1...1300 {
            Records.append(writer, Records.syscall(serial, padding: 700))
            if serial % 100 == 0 { try writer.flush() }
        }
        try writer.flush()
        let rotated = try #require(scratch.status("audit.log.1"))
        let lines = try scratch.lines("audit.log.1")
        let lastLine = try #require(lines.last)
        #expect(rotated.size >= 1_048_576)
        #expect(rotated.size - (lastLine.utf8.count + 1) < 1_048_576, "the rotated file ends with the line that crossed 1 MiB")
        #expect(rotated.mode == 0o400)
        #expect(scratch.status("audit.log")?.mode == 0o600)
        #expect(lines.count + (try scratch.lines("audit.log")).count == 1300)
        #expect(writer.rotations == 1)
        #expect(writer.fileSize == UInt64(scratch.status("audit.log")!.size))
    }

    @Test func numLogsCountsTheLiveFileAndTheChainRenamesOldestFirst() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 8, action: .rotate, numLogs: 3))
        try generations(writer, 5)
        #expect(scratch.exists("audit.log"))
        #expect(try scratch.lines("audit.log") == [])
        #expect(try key(of: "audit.log.1", in: scratch) == "gen5")
        #expect(try key(of: "audit.log.2", in: scratch) == "gen4")
        #expect(!scratch.exists("audit.log.3"), "num_logs = 3 keeps the live file and two rotated ones")
        #expect(scratch.status("audit.log.1")?.mode == 0o400)
        #expect(scratch.status("audit.log.2")?.mode == 0o400)
    }

    @Test func numLogsOfTwoKeepsOneRotatedFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, rotation: RotationPolicy(action: .rotate, numLogs: 2))
        try generations(writer, 3)
        #expect(try key(of: "audit.log.1", in: scratch) == "gen3")
        #expect(!scratch.exists("audit.log.2"))
    }

    @Test func rotationIsSkippedBelowTwoLogs() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let events = EventLog()
        let writer = try writer(scratch, rotation: RotationPolicy(action: .rotate, numLogs: 1), events: events)
        Records.append(writer, Records.syscall(1))
        try writer.flush()
        writer.rotate(reason: "SIGUSR1")
        #expect(!scratch.exists("audit.log.1"))
        #expect(events.messages.contains("Log rotation disabled (num_logs < 2), skipping"))
        Records.append(writer, Records.syscall(2))
        try writer.flush()
        #expect(try scratch.lines("audit.log").count == 2, "the live file is still written")
    }

    @Test func keepLogsShiftsEveryFileUpAndDeletesNone() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 8, action: .keepLogs, numLogs: 2))
        try generations(writer, 5)
        for index in 1...5 {
            #expect(try key(of: "audit.log.\(index)", in: scratch) == "gen\(6 - index)")
            #expect(scratch.status("audit.log.\(index)")?.mode == 0o400)
        }
        #expect(!scratch.exists("audit.log.6"))
    }

    @Test func keepLogsRescansWhenItsLastKnownFileDisappears() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let events = EventLog()
        let writer = try writer(scratch, rotation: RotationPolicy(action: .keepLogs), events: events)
        try generations(writer, 3)
        try FileManager.default.removeItem(atPath: scratch.appending("audit.log.3"))
        try FileManager.default.removeItem(atPath: scratch.appending("audit.log.2"))
        try generations(writer, 1)
        #expect(events.messages.contains { $0.hasPrefix("Last known log disappeared") })
        #expect(scratch.exists("audit.log.1") && scratch.exists("audit.log.2") && !scratch.exists("audit.log.3"))
    }

    @Test func excessLogsAreRemovedAtStartOnlyWithRotate() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for index in 1...6 { try scratch.write("old \(index)\n", to: "audit.log.\(index)") }
        let events = EventLog()
        _ = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 8, action: .keepLogs, numLogs: 4), events: events)
        #expect(scratch.exists("audit.log.6"), "keep_logs never deletes")
        _ = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 8, action: .rotate, numLogs: 4), events: events)
        #expect((1...3).allSatisfy { scratch.exists("audit.log.\($0)") })
        #expect((4...6).allSatisfy { !scratch.exists("audit.log.\($0)") })
        #expect(events.messages.contains("Log \(scratch.appending("audit.log.4")) removed as it exceeds num_logs parameter"))
        #expect(events.count(.excessLogRemoved(scratch.appending("audit.log.6"))) == 1)
        // auditd's fix_disk_permissions: the rotated files kept are made read-only at start.
        #expect(scratch.status("audit.log.1")?.mode == 0o400)
    }

    @Test func numberingStaysContiguousWhenAFileInTheMiddleWasDeleted() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("older\n", to: "audit.log.1")
        try scratch.write("oldest\n", to: "audit.log.3")
        let writer = try writer(scratch, rotation: RotationPolicy(action: .rotate, numLogs: 5))
        Records.append(writer, Records.syscall(1, key: "live"))
        try writer.flush()
        writer.rotate(reason: "test")
        #expect(try key(of: "audit.log.1", in: scratch) == "live")
        #expect(try scratch.lines("audit.log.2") == ["older"])
        #expect(try scratch.lines("audit.log.3") == ["oldest"])
        #expect(!scratch.exists("audit.log.4"), "auditd would have moved .3 to .4 and left .3 missing")
    }

    @Test func anOversizedLogIsRotatedAtStart() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(String(repeating: "type=SYSCALL msg=audit(1.000:1): x\n", count: 40_000), to: "audit.log")
        _ = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 1, action: .rotate, numLogs: 2))
        #expect(scratch.status("audit.log.1")?.size == 40_000 * 35)
        #expect(scratch.status("audit.log")?.size == 0)
    }

    @Test func theSuspendSizeActionClosesTheFileCountsRecordsAndResumeReopens() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let events = EventLog()
        let writer = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 1, action: .suspend), events: events)
        for serial in 1...1200 { Records.append(writer, Records.syscall(serial, padding: 700)) }
        try writer.flush()
        #expect(writer.suspension == .suspended(reason: "Audit daemon is suspending logging due to logfile size."))
        #expect(openFlags(ofDescriptorOn: scratch.appending("audit.log")) == nil, "the file is closed so it can be moved")
        let onDisk = try scratch.lines("audit.log").count
        for serial in 1201...1210 { Records.append(writer, Records.syscall(serial)) }
        #expect(writer.recordsNotLogged == 10)
        // The administrator moves the full file away, then resumes.
        try FileManager.default.moveItem(atPath: scratch.appending("audit.log"), toPath: scratch.appending("kept.log"))
        writer.resume()
        #expect(writer.isWriting)
        Records.append(writer, Records.syscall(1211))
        try writer.flush()
        let fresh = try scratch.lines("audit.log")
        #expect(onDisk + fresh.count == 1201, "the records buffered at the suspension are written after resume")
        #expect(fresh.last?.contains("audit(1700001211.000:1211)") == true)
        #expect(events.messages.contains("Audit daemon resumed logging."))
    }

    @Test func aRecordWhoseRoomMakingWriteSuspendsIsCountedAsNotLogged() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let settings = LogSettings(path: scratch.appending("audit.log"), rotation: RotationPolicy(maxLogFileMiB: 1, action: .suspend))
        // A small buffer: appends make room by writing, and one of those writes suspends.
        let writer = try AuditLogWriter(settings: settings, bufferSize: 64 * 1024, systemActions: RecordedSystemActions())
        for serial in 1...1500 { Records.append(writer, Records.syscall(serial, padding: 700)) }
        #expect(!writer.isWriting)
        #expect(writer.recordsDropped == 0)
        #expect(writer.recordsWritten + writer.pendingRecords + writer.recordsNotLogged == 1500)
    }

    @Test func theSyslogSizeActionSaysSoOncePerFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let events = EventLog()
        let writer = try writer(scratch, rotation: RotationPolicy(maxLogFileMiB: 1, action: .syslog), events: events)
        for serial in 1...2000 {
            Records.append(writer, Records.syscall(serial, padding: 700))
            if serial % 50 == 0 { try writer.flush() }
        }
        #expect(events.messages.filter { $0 == "Audit daemon log file is larger than max size" }.count == 1)
        #expect(!scratch.exists("audit.log.1"))
    }

    @Test func aLogGroupGivesGroupReadableFilesAndDirectoryAsRoot() throws {
        try Requirement.check(Requirement.root.map { "\($0) to give files to another group" })
        let scratch = try Scratch()
        defer { scratch.remove() }
        let adm: gid_t = 4
        let settings = LogSettings(path: scratch.appending("log/audit.log"), group: adm,
                                   rotation: RotationPolicy(action: .rotate, numLogs: 3))
        let writer = try AuditLogWriter(settings: settings, systemActions: RecordedSystemActions())
        Records.append(writer, Records.syscall(1))
        try writer.flush()
        writer.rotate(reason: "test")
        #expect(scratch.status("log")?.mode == 0o750)
        #expect(scratch.status("log")?.gid == adm)
        #expect(scratch.status("log/audit.log")?.mode == 0o640)
        #expect(scratch.status("log/audit.log")?.gid == adm)
        #expect(scratch.status("log/audit.log.1")?.mode == 0o440)
        #expect(scratch.status("log/audit.log.1")?.gid == adm)
        #expect(scratch.status("log/audit.log")?.uid == 0)
    }

    @Test func anExistingLogIsSetToItsModeAndARotatedOneRepaired() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("type=SYSCALL msg=audit(1.000:1): x\n", to: "audit.log")
        try scratch.write("type=SYSCALL msg=audit(1.000:0): x\n", to: "audit.log.1")
        chmod(scratch.appending("audit.log"), 0o644)
        chmod(scratch.appending("audit.log.1"), 0o644)
        _ = try writer(scratch, rotation: RotationPolicy(action: .rotate, numLogs: 3))
        #expect(scratch.status("audit.log")?.mode == 0o600)
        #expect(scratch.status("audit.log.1")?.mode == 0o400)
    }

    @Test func aDirectoryAGroupCanWriteIsRefusedAsRoot() throws {
        try Requirement.check(Requirement.root.map { "\($0) to give the directory to another group" })
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.appending("shared"), withIntermediateDirectories: false)
        chmod(scratch.appending("shared"), 0o770)
        #expect(chown(scratch.appending("shared"), 0, 4) == 0)
        let error = #expect(throws: AuditLogError.self) {
            try AuditLogWriter(settings: LogSettings(path: scratch.appending("shared/audit.log")), systemActions: RecordedSystemActions())
        }
        #expect(error?.description.contains("writable by group") == true, "\(String(describing: error))")
    }

    @Test func aRotatedNameTakenByASymlinkIsNotFollowedWhenRepairing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("precious\n", to: "target")
        chmod(scratch.appending("target"), 0o644)
        try FileManager.default.createSymbolicLink(atPath: scratch.appending("audit.log.1"), withDestinationPath: scratch.appending("target"))
        let events = EventLog()
        _ = try writer(scratch, rotation: RotationPolicy(action: .rotate, numLogs: 3), events: events)
        #expect(scratch.status("target")?.mode == 0o644)
        #expect(events.count(.warning) == 1)
    }
}
