import AuditDaemon
import AuditProtocol
import AuditTestKit
import Testing

/// The daemon says once, at start, that processes already running stay unaudited, only when it
/// switched auditing on itself on a kernel booted without audit=1.
@Suite(.timeLimit(.minutes(1)))
struct UnauditedProcessesNoticeTests {
    static let said = "processes already running before auditing was first switched on since boot are not audited"

    /// Runs the daemon on a fake kernel whose `enabled` flag is `enabled`, booted with `commandLine`,
    /// and returns what it logged.
    private func diagnostics(enabled: UInt32, commandLine: String,
                             startupState: DaemonOptions.StartupState = .enable) throws -> CapturedLog {
        var behaviour = FakeKernel.Behaviour()
        behaviour.status.enabled = enabled
        var options = DaemonOptions()
        options.startupState = startupState
        let log = CapturedLog()
        let harness = try DaemonHarness(behaviour, options: options, commandLine: commandLine, logger: log.logger)
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.stop()
        return log
    }

    @Test func switchingAuditingOnWithoutAuditOneSaysItOnceWithTheFix() throws {
        let log = try diagnostics(enabled: 0, commandLine: "BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet")
        #expect(log.count(containing: Self.said) == 1, "\(log.messages)")
        let notice = log.messages.first { $0.contains(Self.said) } ?? ""
        #expect(notice.hasPrefix("warning: "))
        #expect(notice.contains("until they restart"))
        #expect(notice.contains("add audit=1 to the kernel command line"))
    }

    @Test func auditingAlreadyOnSaysNothing() throws {
        let log = try diagnostics(enabled: 1, commandLine: "BOOT_IMAGE=/vmlinuz quiet")
        #expect(log.count(containing: Self.said) == 0, "\(log.messages)")
        // The run did log (the registration), so the silence is the notice's, not the logger's.
        #expect(log.count(containing: "registered with the kernel") == 1)
    }

    @Test func auditOneOnTheCommandLineSaysNothing() throws {
        for commandLine in ["BOOT_IMAGE=/vmlinuz audit=1", "quiet audit=on audit_backlog_limit=8192\n"] {
            let log = try diagnostics(enabled: 0, commandLine: commandLine)
            #expect(log.count(containing: Self.said) == 0, "\(commandLine): \(log.messages)")
            #expect(log.count(containing: "registered with the kernel") == 1)
        }
    }

    @Test func leavingAuditingOffSaysNothing() throws {
        let log = try diagnostics(enabled: 0, commandLine: "quiet", startupState: .nochange)
        #expect(log.count(containing: Self.said) == 0, "\(log.messages)")
    }

    @Test func theRuleAlone() {
        let noAudit = KernelCommandLine(text: "root=/dev/sda1 audit_backlog_limit=8192 quiet")
        #expect(UnauditedProcessesNotice.text(foundEnabled: 0, setEnabled: 1, commandLine: noAudit) != nil)
        #expect(UnauditedProcessesNotice.text(foundEnabled: 1, setEnabled: 1, commandLine: noAudit) == nil)
        #expect(UnauditedProcessesNotice.text(foundEnabled: 2, setEnabled: nil, commandLine: noAudit) == nil)
        #expect(UnauditedProcessesNotice.text(foundEnabled: 0, setEnabled: 0, commandLine: noAudit) == nil)
        #expect(UnauditedProcessesNotice.text(foundEnabled: 0, setEnabled: 1,
                                              commandLine: KernelCommandLine(text: "audit=1")) == nil)
        // /proc/cmdline unreadable: no guess.
        #expect(UnauditedProcessesNotice.text(foundEnabled: 0, setEnabled: 1, commandLine: nil) == nil)
    }
}
