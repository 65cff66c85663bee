import AuditControl
import AuditDaemon
import Testing

/// The state file: auditd's lines first (the names and shapes of /usr/sbin/auditd 3.0.9's
/// `auditd.state`), then swift-auditd's, and `status` reads back what the daemon wrote.
@Suite struct DaemonStateReportTests {
    func sample() -> DaemonStateReport {
        var report = DaemonStateReport()
        report.sequence = 3
        report.time = 1_700_000_000
        report.pid = 4242
        report.startedAt = 1_699_999_000
        report.priority = -4
        report.logFile = "/var/log/audit/audit.log"
        report.logFormat = "enriched"
        report.logSize = 10 * 1024 + 5
        report.maxLogSizeKiB = 8192
        report.rotatedFiles = 4
        report.rotations = 2
        report.lastRotation = 1_699_999_500
        report.lastRotationReason = "SIGUSR1 from pid 7 (uid 0)"
        report.freeSpaceMiB = 1234
        report.spaceLeftMiB = 75
        report.adminSpaceLeftMiB = 50
        report.adminSpaceLeftActionPerformed = true
        report.suspension = "admin_space_left_action = suspend"
        report.recordsReceived = 100
        report.recordsWritten = 96
        report.daemonRecordsWritten = 2
        report.heldRecordsCollected = 37
        report.losses.notLogged = 6
        report.losses.malformed = 1
        report.kernelLostAtRegistration = 5
        report.kernelLost = 9
        return report
    }

    @Test func startsWithAuditdsOwnLines() {
        let lines = sample().rendered().split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(15).dropFirst(2)) == [
            "process priority = -4",
            "writing to logs = no",
            "current log size = 10 KB",
            "max log size = 8192 KB",
            "logs detected last rotate/shift = 4",
            "space left on partition = yes",
            "Logging partition free space 1234 MB",
            "space_left setting 75 MB",
            "admin_space_left setting 50 MB",
            "logging suspended = yes",
            "file system space action performed = no",
            "admin space action performed = yes",
            "disk error detected = no",
        ])
        #expect(lines[0] == "audit version = \(SwiftAuditdVersion.current)")
        #expect(lines[1].hasPrefix("current time = "))
    }

    @Test func readsBackWhatItWrote() {
        var report = sample()
        report.version = "0.0.0-read-back"  // not the default, so only parsing can bring it back
        let parsed = DaemonStateReport(parsing: report.rendered())
        #expect(parsed.version == "0.0.0-read-back")
        #expect(parsed == report)
        #expect(parsed.kernelLostWhileRunning == 4)
    }

    @Test func statusShowsTheDaemonsCountsAndLossesByCause() {
        let text = StatusText.render(
            kernel: .init(enabled: 1, failure: 1, pid: 4242, backlogLimit: 8192, lost: 9),
            daemon: .init(pid: 4242, description: "swift-auditd (pid 4242)", isSwiftAuditd: true),
            report: sample(), stateFile: "/run/audit/swift-auditd.state", now: 1_700_000_002)
        #expect(text.contains("report 2 s old"))
        #expect(text.contains("  logging:            SUSPENDED: admin_space_left_action = suspend\n"))
        #expect(text.contains("  disk:               1234 MiB free; space_left 75 MiB, admin_space_left 50 MiB; max_log_file 8 MiB; admin_space_left action taken\n"))
        #expect(text.contains("  records written:    96 (94 from the kernel, 2 of its own)\n"))
        #expect(text.contains("  held backlog:       37 records collected at registration\n"))
        #expect(text.contains("  losses:             6 not logged while suspended, 1 malformed datagrams\n"))
        #expect(text.contains("  kernel lost:        4 since registration\n"))
    }
}
