import AuditProtocol
import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// Controlling swift-auditd on this machine's kernel the way an administrator controls auditd:
    /// `auditctl --signal` (Debian's 3.0.9 syntax) finds it through the kernel, each signal's record
    /// names auditctl as the sender, and `swift-auditd status` shows the kernel's counters and its own.
    @Suite(.timeLimit(.minutes(3)))
    struct RealKernelControlTests {
        @Test func auditctlSignalRotatesReloadsResumesAndStopsSwiftAuditdWithAttribution() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let directory = try TemporaryDirectory("swift-auditd-real")
                defer { directory.remove() }
                let logPath = try AuditdConf(in: directory).write(to: directory)
                let daemon = try DaemonProcess.registered(in: directory)
                _ = daemon.waitForLine { $0.contains("op=set audit_pid=\(daemon.pid)") }

                // USR1: a new file whose first line is DAEMON_ROTATE, sent by auditctl (root: the
                // kernel's audit uid is 0 when the login uid is unset).
                try RealKernel.auditctl(["--signal", "USR1"])
                let rotated = daemon.waitForLine { $0.contains("type=DAEMON_ROTATE") }
                #expect(rotated.first?.hasPrefix("type=DAEMON_ROTATE msg=audit(") == true, "diagnostics: \(daemon.diagnostics)")
                #expect(rotated.first?.contains("): op=rotate-logs auid=") == true)
                #expect(rotated.first?.hasSuffix(" res=success") == true)
                #expect(rotated.first?.contains(" pid=-1 ") == false)
                let old = try daemon.lines("log/audit.log.1")
                #expect(old.first?.hasPrefix("type=DAEMON_START ") == true)
                #expect(old.contains { $0.contains("op=set audit_pid=\(daemon.pid)") })

                // status: the kernel's counters and the daemon's own, with a fresh report (SIGCONT).
                let status = try shell(builtDaemonPath(), ["status", "--run-directory", daemon.runDirectory])
                print(status.output)
                #expect(status.status == 0, "\(status.output)")
                #expect(status.output.contains("audit daemon:       swift-auditd (pid \(daemon.pid))"))
                #expect(status.output.contains("lost:"))
                #expect(status.output.contains("backlog:"))
                #expect(status.output.contains("log file:           \(logPath)"))
                #expect(status.output.contains("records written:"))
                #expect(status.output.contains("last rotation"))

                try RealKernel.auditctl(["--signal", "HUP"])
                #expect(daemon.waitForLine { $0.contains("type=DAEMON_CONFIG") }.last?.contains("op=reconfigure state=changed auid=") == true)
                try RealKernel.auditctl(["--signal", "USR2"])
                #expect(daemon.waitForLine { $0.contains("type=DAEMON_RESUME") }.last?.contains("op=resume-logging auid=") == true)

                try RealKernel.auditctl(["--signal", "TERM"])
                #expect(daemon.waitForExit() == 0)
                let lines = daemon.lines()
                #expect(lines.last?.hasPrefix("type=DAEMON_END msg=audit(") == true)
                #expect(lines.last?.contains("): op=terminate auid=") == true)
                #expect(lines.last?.contains(" pid=-1 ") == false)
                #expect(try RealKernel.status().pid == 0)
            }
        }
    }
}
