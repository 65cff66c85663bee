import AuditDaemon
import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// Each signal's operation against the fake kernel, with the attribution the kernel reports
/// (`AUDIT_SIGNAL_INFO`) in its record, exactly as auditd writes it. The commands are sent as the
/// signal thread sends them; `SwiftAuditdTests` sends real signals to the real executable.
@Suite(.timeLimit(.minutes(1)))
struct DaemonSignalTests {
    typealias Record = FakeKernel.Record
    static let startLine = "type=DAEMON_START msg=\(DaemonHarness.stamp): op=start ver="
    /// What the fake kernel answers: login uid 1000, pid 1 (root-owned on every machine, no session).
    static let initSender = SignalInfo(uid: 1000, pid: 1)
    static let initAttribution = "auid=1000 uid=0 ses=4294967295 pid=1"

    static func origin(_ signal: Int32) -> SignalOrigin { SignalOrigin(signal: signal, pid: 1, uid: 0) }

    func behaviour(signalInfo: SignalInfo? = initSender) -> FakeKernel.Behaviour {
        var behaviour = FakeKernel.Behaviour()
        behaviour.signalInfo = signalInfo
        return behaviour
    }

    // MARK: - SIGTERM

    @Test func sigtermWritesDaemonEndLastWithTheKernelsAttribution() throws {
        let harness = try DaemonHarness(behaviour())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.kernel.emit(.syscall, "audit(1700000001.000:101): live")
        harness.control.send(.stop(reason: "SIGTERM", origin: Self.origin(SIGTERM)))
        _ = try harness.waitForExit()
        let lines = try harness.logLines()
        #expect(lines.first?.hasPrefix(Self.startLine) == true)
        #expect(lines.dropFirst(2).first == "type=SYSCALL msg=audit(1700000001.000:101): live")
        #expect(lines.last == DaemonHarness.daemonLine("DAEMON_END", serial: 501, "op=terminate \(Self.initAttribution) res=success"))
        // Asked before unregistering, while the kernel still holds the sender.
        let types = harness.kernel.requests.map(\.type)
        #expect(types.firstIndex(of: .signalInfo)! < types.lastIndex(of: .setStatus)!)
    }

    @Test func aSecurityContextIsWrittenAsSubj() throws {
        let harness = try DaemonHarness(behaviour(signalInfo: SignalInfo(uid: 0, pid: 1, context: Array("system_u:system_r:init_t:s0".utf8))))
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.stop(reason: "SIGTERM", origin: Self.origin(SIGTERM)))
        _ = try harness.waitForExit()
        #expect(try harness.logLines().last?.hasSuffix(
            "op=terminate auid=0 uid=0 ses=4294967295 pid=1 subj=system_u:system_r:init_t:s0 res=success") == true)
    }

    @Test func whenTheKernelCannotSayDaemonEndHasAuditdsFallback() throws {
        let harness = try DaemonHarness(behaviour(signalInfo: nil))
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.stop(reason: "SIGTERM", origin: Self.origin(SIGTERM)))
        _ = try harness.waitForExit()
        #expect(try harness.logLines().last
            == DaemonHarness.daemonLine("DAEMON_END", serial: 501, "op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success"))
    }

    @Test func sigintIsAttributedFromItsSenderSinceTheKernelDoesNotRememberIt() throws {
        let harness = try DaemonHarness(behaviour())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.stop(reason: "SIGINT", origin: SignalOrigin(signal: SIGINT, pid: getpid(), uid: getuid())))
        _ = try harness.waitForExit()
        #expect(!harness.kernel.requests.map(\.type).contains(.signalInfo))
        // auditd's text for the sender, built here from /proc independently of SignalSender: the
        // login uid (the uid when unset), the owner of /proc/PID, the session id as read.
        let loginUID = (try? String(contentsOfFile: "/proc/self/loginuid", encoding: .utf8)).flatMap { UInt32($0) } ?? UInt32.max
        let auid = loginUID == UInt32.max ? getuid() : loginUID
        let session = (try? String(contentsOfFile: "/proc/self/sessionid", encoding: .utf8)) ?? "4294967295"
        let expected = "op=terminate auid=\(auid) uid=\(getuid()) ses=\(session) pid=\(getpid()) res=success"
        #expect(try harness.logLines().last == DaemonHarness.daemonLine("DAEMON_END", serial: 501, expected))
    }

    @Test func recordsArrivingWhileTheAnswerIsAwaitedAreWrittenBeforeDaemonEnd() throws {
        var behaviour = behaviour()
        behaviour.recordsBeforeSignalInfoReply = (1...20).map { Record(.syscall, "audit(1700000002.000:\($0)): waiting") }
        let harness = try DaemonHarness(behaviour)
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.stop(reason: "SIGTERM", origin: Self.origin(SIGTERM)))
        let summary = try harness.waitForExit()
        let lines = try harness.logLines()
        #expect(lines.filter { $0.hasSuffix("): waiting") }.count == 20)
        #expect(lines.last?.hasPrefix("type=DAEMON_END ") == true)
        #expect(summary.recordsWritten == summary.receive.records + 2)
    }

    // MARK: - SIGUSR1

    @Test func sigusr1RotatesAndDaemonRotateIsTheFirstLineOfTheNewFile() throws {
        var behaviour = behaviour()
        behaviour.recordsBeforeSignalInfoReply = [Record(.syscall, "audit(1700000002.000:7): while asking")]
        let harness = try DaemonHarness(behaviour)
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.kernel.emit(.syscall, "audit(1700000001.000:101): before")
        _ = harness.waitForLine { $0.hasSuffix("): before") }
        harness.control.send(.rotate(origin: Self.origin(SIGUSR1)))
        let rotated = harness.waitForLine { $0.contains("DAEMON_ROTATE") }
        try harness.kernel.emit(.syscall, "audit(1700000001.000:102): after")
        _ = harness.waitForLine { $0.hasSuffix("): after") }
        try harness.stop()

        let old = try harness.directory.lines(of: "log/audit.log.1")
        #expect(old.first?.hasPrefix(Self.startLine) == true)
        #expect(old.suffix(2) == ["type=SYSCALL msg=audit(1700000001.000:101): before",
                                  "type=SYSCALL msg=audit(1700000002.000:7): while asking"])
        let new = try harness.logLines()
        #expect(rotated.first == DaemonHarness.daemonLine("DAEMON_ROTATE", serial: 501, "op=rotate-logs \(Self.initAttribution) res=success"))
        #expect(new.first == rotated.first)
        #expect(new.dropFirst().first == "type=SYSCALL msg=audit(1700000001.000:102): after")
        #expect(new.last?.hasPrefix("type=DAEMON_END msg=audit(1700000100.007:502): ") == true)
    }

    @Test func sigusr1RotatesEvenWhenTheKernelCannotSayWhoAsked() throws {
        let harness = try DaemonHarness(behaviour(signalInfo: nil))
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.rotate(origin: Self.origin(SIGUSR1)))
        let lines = harness.waitForLine { $0.contains("DAEMON_ROTATE") }
        try harness.stop()
        #expect(lines.first == DaemonHarness.daemonLine("DAEMON_ROTATE", serial: 501, "op=rotate-logs auid=-1 pid=-1 subj=? res=failed"))
        #expect(FileManager.default.fileExists(atPath: harness.directory.appending("log/audit.log.1")))
    }

    // MARK: - SIGHUP

    @Test func sighupWithAGoodFileAppliesItAndWritesASuccessfulDaemonConfig() throws {
        let harness = try DaemonHarness(behaviour())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        let moved = harness.directory.appending("moved/audit.log")
        try harness.directory.write("log_file = \(moved)\nlog_format = RAW\n", to: "auditd.conf")
        harness.control.send(.reload(origin: Self.origin(SIGHUP)))
        let lines = harness.waitForLine(in: "moved/audit.log") { $0.contains("DAEMON_CONFIG") }
        try harness.kernel.emit(.syscall, "audit(1700000001.000:103): to the new file")
        _ = harness.waitForLine(in: "moved/audit.log") { $0.hasSuffix("to the new file") }
        try harness.stop()
        #expect(lines.first == DaemonHarness.daemonLine(
            "DAEMON_CONFIG", serial: 501, "op=reconfigure state=changed auid=1000 pid=1 subj=? res=success"))
        #expect(try harness.directory.lines(of: "moved/audit.log").dropFirst().first
            == "type=SYSCALL msg=audit(1700000001.000:103): to the new file")
    }

    @Test func sighupWithABrokenFileKeepsTheOldConfigurationRunning() throws {
        let harness = try DaemonHarness(behaviour())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.directory.write("log_file=\(harness.directory.appending("elsewhere.log"))\n", to: "auditd.conf")
        harness.control.send(.reload(origin: Self.origin(SIGHUP)))
        _ = harness.waitForLine { $0.contains("DAEMON_CONFIG") }
        try harness.kernel.emit(.syscall, "audit(1700000001.000:104): still here")
        let lines = harness.waitForLine { $0.hasSuffix("still here") }
        try harness.stop()
        #expect(lines.contains(DaemonHarness.daemonLine(
            "DAEMON_CONFIG", serial: 501, "op=reconfigure state=no-change \(Self.initAttribution) res=failed")))
        #expect(lines.last == "type=SYSCALL msg=audit(1700000001.000:104): still here")
        #expect(!FileManager.default.fileExists(atPath: harness.directory.appending("elsewhere.log")))
    }

    @Test func sighupWithAuditdConfGoneKeepsTheRunningConfiguration() throws {
        let harness = try DaemonHarness(behaviour())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try FileManager.default.removeItem(atPath: harness.directory.appending("auditd.conf"))
        harness.control.send(.reload(origin: Self.origin(SIGHUP)))
        _ = harness.waitForLine { $0.contains("DAEMON_CONFIG") }
        try harness.kernel.emit(.syscall, "audit(1700000001.000:105): same file")
        let lines = harness.waitForLine { $0.hasSuffix("same file") }
        try harness.stop()
        #expect(lines.contains(DaemonHarness.daemonLine(
            "DAEMON_CONFIG", serial: 501, "op=reconfigure state=no-change \(Self.initAttribution) res=failed")))
        #expect(lines.last == "type=SYSCALL msg=audit(1700000001.000:105): same file")
    }

    @Test func sighupThatTheKernelCannotAttributeIsRefusedAsAuditdRefusesIt() throws {
        let harness = try DaemonHarness(behaviour(signalInfo: nil))
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        try harness.directory.write("log_file = \(harness.directory.appending("moved/audit.log"))\n", to: "auditd.conf")
        harness.control.send(.reload(origin: Self.origin(SIGHUP)))
        let lines = harness.waitForLine { $0.contains("DAEMON_CONFIG") }
        try harness.stop()
        #expect(lines.last == DaemonHarness.daemonLine(
            "DAEMON_CONFIG", serial: 501, "op=reconfigure state=no-change auid=-1 pid=-1 subj=? res=failed"))
        #expect(!FileManager.default.fileExists(atPath: harness.directory.appending("moved/audit.log")))
    }

    // MARK: - SIGUSR2 and SIGCONT

    @Test func sigusr2WritesDaemonResumeWithTheKernelsAttribution() throws {
        let harness = try DaemonHarness(behaviour())
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.resume(origin: Self.origin(SIGUSR2)))
        let lines = harness.waitForLine { $0.contains("DAEMON_RESUME") }
        try harness.stop()
        #expect(lines.last == DaemonHarness.daemonLine("DAEMON_RESUME", serial: 501, "op=resume-logging \(Self.initAttribution) res=success"))
    }

    @Test func sigusr2WithoutAnAnswerStillResumesWithAuditdsFallback() throws {
        let harness = try DaemonHarness(behaviour(signalInfo: nil))
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.resume(origin: Self.origin(SIGUSR2)))
        let lines = harness.waitForLine { $0.contains("DAEMON_RESUME") }
        try harness.stop()
        #expect(lines.last == DaemonHarness.daemonLine("DAEMON_RESUME", serial: 501, "op=resume-logging auid=-1 pid=-1 subj=? res=success"))
    }

    @Test func sigcontWritesTheStateReportWithCountsAndLosses() throws {
        var behaviour = behaviour()
        behaviour.heldRecords = [Record(.user, "audit(1699999991.002:2): held")]
        behaviour.status.lost = 7
        let harness = try DaemonHarness(behaviour, keepsRunDirectory: true)
        defer { harness.cleanUp() }
        let run = RunDirectory(harness.directory.appending("run"))
        #expect(harness.waitUntilRegistered())
        for serial in 1...3 { try harness.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): x") }
        try harness.kernel.emit(raw: [1, 2, 3])  // malformed
        _ = harness.waitForLines(6)
        let before = run.readState()?.sequence ?? 0
        harness.control.send(.reportState(origin: SignalOrigin(signal: SIGCONT, pid: 1, uid: 0)))
        var report = run.readState()
        eventually {
            report = run.readState()
            return (report?.sequence ?? 0) > before
        }
        #expect(run.pidInPIDFile() == Int32(DaemonHarness.pid))
        try harness.stop()

        let state = try #require(report)
        #expect(state.pid == Int32(DaemonHarness.pid))
        #expect(state.mode == "registered")
        #expect(state.logFile == harness.directory.appending("log/audit.log"))
        #expect(state.recordsReceived == 5)  // held, the registration record, 3 live
        #expect(state.recordsWritten == 6)   // and DAEMON_START
        #expect(state.daemonRecordsWritten == 1)
        #expect(state.heldRecordsCollected == 1)
        #expect(state.losses.malformed == 1)
        #expect(state.kernelLostAtRegistration == 7)
        #expect(state.kernelLost == 7)
        #expect(state.logSize > 0)
        // The PID file and the state report go with the daemon.
        #expect(!FileManager.default.fileExists(atPath: run.pidFile))
        #expect(!FileManager.default.fileExists(atPath: run.stateFile))
    }

    @Test func withEnrichedLinesTheDaemonsOwnRecordsAreEnrichedAsAuditdEnrichesThem() throws {
        // Debian's auditd 3.0.9 wrote, in the ENRICHED golden log (Tests/AuditLogTests/Fixtures):
        //   type=DAEMON_END msg=audit(…): op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success^]AUID="unset" UID="unset"
        //   type=DAEMON_START msg=audit(…): op=start ver=3.0.9 format=enriched kernel=… auid=4294967295 pid=… uid=0 ses=… res=success^]AUID="unset" UID="root"
        let harness = try DaemonHarness(behaviour(signalInfo: nil), logFormat: .enriched)
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())
        harness.control.send(.stop(reason: "SIGTERM", origin: Self.origin(SIGTERM)))
        _ = try harness.waitForExit()
        let lines = try harness.logLines()
        #expect(lines.last == DaemonHarness.daemonLine("DAEMON_END", serial: 501,
            "op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success\u{1D}AUID=\"unset\" UID=\"unset\""))
        let start = try #require(lines.first)
        #expect(start.contains(" format=enriched "))
        let identity = ProcessIdentity.current(pid: DaemonHarness.pid)
        if identity.auid == UInt32.max, getuid() == 0 {
            #expect(start.hasSuffix(" res=success\u{1D}AUID=\"unset\" UID=\"root\""))
        } else {
            #expect(start.contains(" res=success\u{1D}AUID="))
        }
    }

    @Test func aFloodOfOneSignalIsFoldedIntoTheRequestStillWaiting() throws {
        let control = try DaemonControl()
        for _ in 0..<1000 { control.send(.rotate(origin: Self.origin(SIGUSR1))) }
        control.send(.reportState())
        control.send(.stop(reason: "test"))
        #expect(control.coalesced == 999)
    }

    // MARK: - Start failures

    @Test func aRefusedRegistrationIsWrittenAsDaemonAbortAfterDaemonStart() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.registrationError = EEXIST
        let harness = try DaemonHarness(behaviour, keepsRunDirectory: true)
        defer { harness.cleanUp() }
        let error = #expect(throws: AuditDaemonError.self) { try harness.waitForExit() }
        #expect(error?.code.exitStatus == 1)
        let identity = ProcessIdentity.current(pid: DaemonHarness.pid)
        let lines = try harness.logLines()
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(Self.startLine) == true)
        #expect(lines.last == DaemonHarness.daemonLine("DAEMON_ABORT", serial: 501,
            "op=set-pid auid=\(identity.auid) pid=4242 uid=\(getuid()) ses=\(identity.session) res=failed"))
        #expect(!FileManager.default.fileExists(atPath: RunDirectory(harness.directory.appending("run")).pidFile))
    }

    @Test func aRefusedEnableIsWrittenAsDaemonAbortSetEnable() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.enableError = EINVAL
        let harness = try DaemonHarness(behaviour)
        defer { harness.cleanUp() }
        let error = #expect(throws: AuditDaemonError.self) { try harness.waitForExit() }
        #expect(error?.code.exitStatus == 1)
        #expect(try harness.logLines().last?.hasPrefix("type=DAEMON_ABORT msg=audit(1700000100.007:501): op=set-enable auid=") == true)
        #expect(harness.kernel.registrations.isEmpty)
    }

    // MARK: - systemd

    @Test func readyIsNotifiedOnlyAfterTheKernelAcknowledgedTheRegistration() throws {
        let directory = try TemporaryDirectory("swift-auditd-notify")
        defer { directory.remove() }
        let notify = try NotifySocket(path: directory.appending("notify"))
        var behaviour = behaviour()
        behaviour.registrationAckDelay = .milliseconds(300)
        behaviour.heldRecords = [Record(.user, "audit(1699999991.002:2): held"), Record(.user, "audit(1699999991.003:3): held")]
        let harness = try DaemonHarness(behaviour, notifyAddress: notify.path)
        defer { harness.cleanUp() }

        let (first, arrived) = try #require(notify.receive(timeout: .seconds(10)))
        let acknowledged = try #require(harness.kernel.registrationAcknowledgedAt)
        #expect(first.hasPrefix("READY=1\nSTATUS=Registered as the kernel's audit daemon (pid 4242)"))
        #expect(arrived >= acknowledged)
        let held = try #require(notify.receive(until: "STATUS="))
        #expect(held.last?.contains("collected 2 records the kernel held before registration") == true)

        harness.control.send(.reload(origin: Self.origin(SIGHUP)))
        let reload = try #require(notify.receive(until: "READY=1"))
        #expect(reload.first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true)
        #expect(reload.last?.hasPrefix("READY=1\nSTATUS=Reloaded auditd.conf") == true)

        harness.control.send(.stop(reason: "SIGTERM", origin: Self.origin(SIGTERM)))
        let stopping = try #require(notify.receive(until: "STOPPING=1"))
        #expect(stopping.last?.hasPrefix("STOPPING=1\nSTATUS=Stopping") == true)
        _ = try harness.waitForExit()
    }

    @Test func nothingIsNotifiedWhenTheRegistrationFails() throws {
        let directory = try TemporaryDirectory("swift-auditd-notify")
        defer { directory.remove() }
        let notify = try NotifySocket(path: directory.appending("notify"))
        var behaviour = FakeKernel.Behaviour()
        behaviour.registrationError = EEXIST
        let harness = try DaemonHarness(behaviour, notifyAddress: notify.path)
        defer { harness.cleanUp() }
        _ = try? harness.waitForExit()
        #expect(notify.receive(timeout: .milliseconds(300)) == nil)
    }
}
