import AuditProtocol
import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// The daemon against this machine's kernel: registration, a rule's events in the log, ausearch
    /// reading them, and a stop under load. Each test holds the kernel lock, deletes the rule it
    /// adds and puts `enabled` back.
    @Suite(.timeLimit(.minutes(3)))
    struct RealKernelDaemonTests {
        @Test func daemonRegistersAndWritesEveryEventOfARuleWhereAusearchFindsThem() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let directory = try TemporaryDirectory("swift-auditd-real")
                defer { directory.remove() }
                let (logPath, daemon, thread) = try DaemonProcess.registeredWithAuditedThread(in: directory)
                let rule = AuditRule()
                try rule.add()
                let events = 500
                thread.callGetppid(events)
                rule.delete()
                #expect(daemon.terminate() == 0)
                let after = try RealKernel.status()
                #expect(after.pid == 0)

                let lines = daemon.lines()
                let syscalls = lines.filter { $0.hasPrefix("type=SYSCALL ") && $0.contains("key=\"\(rule.key)\"") }
                #expect(syscalls.count == events)
                #expect(lines.allSatisfy { $0.hasPrefix("type=") })
                // DAEMON_START before the registration (auditd's order), then the kernel's own record of
                // it, and DAEMON_END naming this test process as the sender of SIGTERM.
                #expect(lines.first?.hasPrefix("type=DAEMON_START msg=audit(") == true)
                #expect(lines.first?.contains(" pid=\(daemon.pid) ") == true)
                #expect(lines.dropFirst().first?.contains("op=set audit_pid=\(daemon.pid)") == true)
                #expect(lines.last?.hasPrefix("type=DAEMON_END ") == true)
                #expect(lines.last?.contains(" pid=\(getpid()) res=success") == true)

                let search = try shell("/usr/sbin/ausearch", ["-if", logPath, "-k", rule.key, "-r"])
                // ausearch also finds auditctl's own add_rule and del_rule events under the key.
                let found = search.output.split(separator: "\n").filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(" pid=\(getpid()) ") }
                #expect(found.count == events, "ausearch: \(search.output.prefix(500))")

                let diagnostics = daemon.diagnostics
                #expect(diagnostics.contains("registered with the kernel as its audit daemon"))
                let commandLine = (try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) ?? ""
                if !commandLine.contains("audit=1") {
                    #expect(diagnostics.contains("the kernel was not booted with audit=1"))
                }
                #expect(daemon.summaryFigure("received") == lines.count - 2)
                #expect(daemon.summaryFigure("written") == lines.count)
                #expect(daemon.summaryFigure("daemon_records") == 2)
                print("registered daemon: \(syscalls.count) of \(events) events in the log, ausearch found \(found.count)")
            }
        }

        @Test func sigtermDuringALoadLeavesEveryGeneratedEventOnDisk() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let directory = try TemporaryDirectory("swift-auditd-real")
                defer { directory.remove() }
                let (logPath, daemon, thread) = try DaemonProcess.registeredWithAuditedThread(in: directory)
                let rule = AuditRule()
                try rule.add()
                defer { rule.delete() }

                // Bounded in count and time whatever happens to the daemon.
                let load = thread.startGetppidLoad(limit: 2_000_000, seconds: 30)
                // SIGTERM once the load is well under way and reaching the disk.
                #expect(eventually { rule.syscallLines(in: logPath) >= 1000 }, "diagnostics: \(daemon.diagnostics)")
                daemon.signal(SIGTERM)
                let count = load.stop()
                #expect(daemon.waitForExit() == 0)
                rule.delete()

                let onDisk = rule.syscallLines(in: logPath)
                print("SIGTERM under load: \(count) events generated, \(onDisk) on disk")
                #expect(count > 1000)
                #expect(onDisk == count)
            }
        }
    }
}
