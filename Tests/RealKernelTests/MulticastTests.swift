import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// Shadow mode on this machine's kernel: the daemon joins the read-only multicast group instead
    /// of registering, and logs what the kernel multicasts, while the daemon slot stays free.
    @Suite(.timeLimit(.minutes(2)))
    struct MulticastTests {
        @Test func realKernelShadowModeLogsARulesEventsWithoutRegistering() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                // Shadow mode never switches auditing on; the test does (withExclusiveUse puts it back).
                try RealKernel.auditctl(["-e", "1"])
                let directory = try TemporaryDirectory("swift-auditd-multicast")
                defer { directory.remove() }
                let logPath = try AuditdConf(in: directory).write(to: directory)
                let daemon = try DaemonProcess(directory: directory, arguments: ["--multicast"])
                defer { _ = daemon.terminate() }
                // The thread's probe also proves the group delivers: the kernel's record of the join
                // itself can be sent before the membership takes effect.
                let thread = try AuditedThread(provingWith: logPath)
                let slotAfterJoin = try RealKernel.status().pid
                #expect(slotAfterJoin == 0)

                let rule = AuditRule()
                try rule.add()
                let events = 300
                thread.callGetppid(events)
                rule.delete()
                eventually { rule.syscallLines(in: logPath) >= events }
                #expect(daemon.terminate() == 0)
                let logged = rule.syscallLines(in: logPath)
                let slotAtEnd = try RealKernel.status().pid
                print("multicast shadow mode: \(logged) of \(events) events logged, daemon slot pid \(slotAfterJoin) after the join and \(slotAtEnd) at the end")
                #expect(logged == events)
                #expect(slotAtEnd == 0)
                #expect(daemon.diagnostics.contains("shadow mode"))
            }
        }
    }
}
