import AuditDaemon
import AuditLog
import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// The daemon on a whole auditd.conf: what it applies at start and on a reload, and the log-file
/// operations behind SIGUSR1 and SIGUSR2.
@Suite(.timeLimit(.minutes(1)))
struct DaemonLogFilesTests {
    /// Records what `exec`, `single` and `halt` would run; nothing is ever run.
    final class RecordedSystemActions: SystemActions, @unchecked Sendable {  // read after the daemon stopped
        private let lock = NSLock()
        private var calls: [String] = []
        func run(executable path: String) { lock.withLock { calls.append("exec \(path)") } }
        func changeRunlevel(_ level: Runlevel) { lock.withLock { calls.append("init \(level.rawValue)") } }
        var recorded: [String] { lock.withLock { calls } }
    }

    /// A fake kernel that answers AUDIT_SIGNAL_INFO (a reload needs to know who asked).
    static func attributing() -> FakeKernel.Behaviour {
        var behaviour = FakeKernel.Behaviour()
        behaviour.signalInfo = SignalInfo(uid: 1000, pid: 1)
        return behaviour
    }

    @Test func nameFormatUserPrefixesEveryLineWithTheNode() throws {
        let harness = try DaemonHarness(settings: "name_format = user\nname = audit-host-7\n")
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.kernel.emit(.syscall, "audit(1700000001.000:1): x")
        _ = harness.waitForLine { $0.hasSuffix(":1): x") }
        try harness.stop()
        let lines = try harness.logLines()
        #expect(lines.count == 4, "DAEMON_START, the kernel's CONFIG_CHANGE, the record, DAEMON_END")
        #expect(lines.allSatisfy { $0.hasPrefix("node=audit-host-7 type=") })
        #expect(lines.contains("node=audit-host-7 type=SYSCALL msg=audit(1700000001.000:1): x"))
    }

    @Test func nameFormatUserWithoutANameIsAConfigurationError() throws {
        let harness = try DaemonHarness(settings: "name_format = user\n")
        defer { harness.cleanUp() }
        #expect(throws: AuditDaemonError.self) { try harness.waitForExit() }
    }

    @Test func writeLogsNoWritesNoFileAndCountsTheRecords() throws {
        let harness = try DaemonHarness(settings: "write_logs = no\n")
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        for serial in 1...5 { try harness.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): x") }
        // The stop drains what the kernel sent before it.
        let summary = try harness.stop()
        #expect(!FileManager.default.fileExists(atPath: harness.directory.appending("log/audit.log")))
        #expect(summary.recordsWritten == 0)
        #expect(summary.recordsNotLogged == 8, "5 records, the kernel's CONFIG_CHANGE, DAEMON_START and DAEMON_END")
    }

    @Test func logGroupGivesTheLogAndItsDirectoryToTheGroupAsRoot() throws {
        try Requirement.check(Requirement.root.map { "\($0) to give the log to another group" })
        let harness = try DaemonHarness(settings: "log_group = adm\n")
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.stop()
        var file = stat(), folder = stat()
        #expect(stat(harness.directory.appending("log/audit.log"), &file) == 0)
        #expect(stat(harness.directory.appending("log"), &folder) == 0)
        #expect(file.st_mode & 0o7777 == 0o640 && file.st_gid == 4 && file.st_uid == 0)
        #expect(folder.st_mode & 0o7777 == 0o750 && folder.st_gid == 4)
    }

    @Test func sigusr1WithNumLogsBelowTwoWritesDaemonRotateIntoTheSameFile() throws {
        let harness = try DaemonHarness(settings: "num_logs = 1\n")
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.rotate())
        _ = harness.waitForLine { $0.contains("DAEMON_ROTATE") }
        try harness.stop()
        #expect(!FileManager.default.fileExists(atPath: harness.directory.appending("log/audit.log.1")))
        #expect(try harness.logLines().contains { $0.contains("DAEMON_ROTATE") })
    }

    @Test func maxLogFileSuspendsAndResumeReopensAMovedLog() throws {
        let harness = try DaemonHarness(keepsRunDirectory: true, settings: "max_log_file = 1\nmax_log_file_action = suspend\n")
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        let padding = String(repeating: "p", count: 800)
        for serial in 1...1400 { try harness.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): \(padding)") }
        let run = RunDirectory(harness.directory.appending("run"))
        var state: DaemonStateReport?
        eventually(interval: .milliseconds(100)) {
            harness.control.send(.reportState())
            state = run.readState()
            return state?.suspension != nil
        }
        #expect(state?.suspension == "Audit daemon is suspending logging due to logfile size.")
        #expect(state?.writingToLogs == false || state?.suspension != nil)
        let log = harness.directory.appending("log/audit.log")
        try FileManager.default.moveItem(atPath: log, toPath: harness.directory.appending("log/full.log"))
        harness.control.send(.resume())
        let resumed = harness.waitForLine { $0.contains("DAEMON_RESUME") }
        #expect(resumed.last?.contains("op=resume-logging") == true)
        try harness.kernel.emit(.syscall, "audit(1700000002.000:1): after")
        _ = harness.waitForLine { $0.hasSuffix(":1): after") }
        let summary = try harness.stop()
        let full = try harness.directory.lines(of: "log/full.log")
        let fresh = try harness.logLines()
        #expect(!full.isEmpty && fresh.last?.contains("DAEMON_END") == true)
        #expect(full.count + fresh.count + Int(summary.recordsNotLogged) == 1400 + 1 + 4,
                "every record is in one of the files or counted as not logged")
        #expect(summary.recordsDropped == 0)
    }

    @Test func aReloadMovesTheLogAndChangesTheNodeName() throws {
        let harness = try DaemonHarness(Self.attributing())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        let moved = harness.directory.appending("moved/audit.log")
        try harness.directory.write("log_file = \(moved)\nlog_format = RAW\nname_format = user\nname = reloaded\n", to: "auditd.conf")
        harness.control.send(.reload())
        _ = harness.waitForLine(in: "moved/audit.log") { $0.contains("DAEMON_CONFIG") }
        try harness.kernel.emit(.syscall, "audit(1700000001.000:1): x")
        _ = harness.waitForLine(in: "moved/audit.log") { $0.hasSuffix(":1): x") }
        try harness.stop()
        let lines = try harness.directory.lines(of: "moved/audit.log")
        #expect(lines.first?.hasPrefix("node=reloaded type=DAEMON_CONFIG ") == true)
        #expect(lines.contains("node=reloaded type=SYSCALL msg=audit(1700000001.000:1): x"))
        let old = try harness.logLines()
        #expect(old.count == 2 && old[0].contains("DAEMON_START"), "the old file keeps what came before the reload: \(old)")
    }

    @Test func aLogThatCannotBeReopenedRunsDiskErrorActionThroughTheSeam() throws {
        let actions = RecordedSystemActions()
        let harness = try DaemonHarness(Self.attributing(), settings: "disk_error_action = halt\n", systemActions: actions)
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        let open = harness.directory.appending("open")
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        chmod(open, 0o777)
        try harness.directory.write("log_file = \(open)/audit.log\nlog_format = RAW\ndisk_error_action = halt\n", to: "auditd.conf")
        harness.control.send(.reload())
        try harness.kernel.emit(.syscall, "audit(1700000001.000:1): x")
        #expect(eventually { !actions.recorded.isEmpty })
        let summary = try harness.stop()
        #expect(actions.recorded == ["init 0"], "halt asked of the seam only")
        #expect(summary.recordsNotLogged >= 1)
        #expect(!FileManager.default.fileExists(atPath: "\(open)/audit.log"))
    }
}
