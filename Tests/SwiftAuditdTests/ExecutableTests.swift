import AuditDaemon
import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// The `swift-auditd` executable with real signals, against a fake kernel it inherits. The fake
/// kernel answers `AUDIT_SIGNAL_INFO` with this test process (uid 0 as the audit uid, its pid),
/// which is also the process that sends the signals.
@Suite(.timeLimit(.minutes(2)))
struct ExecutableSignalTests {
    static var attribution: String {
        SignalSender(DaemonProcess.testProcessSender).text(operation: "OP", result: "RES")
            .replacingOccurrences(of: "op=OP ", with: "").replacingOccurrences(of: " res=RES", with: "")
    }

    func started(_ behaviour: FakeKernel.Behaviour? = nil, environment: [String: String] = [:]) throws -> DaemonProcess {
        let daemon = try DaemonProcess.spawned(behaviour, environment: environment)
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        return daemon
    }

    @Test func sigtermStopsLosslesslyWithDaemonEndAndRemovesThePIDFile() throws {
        let daemon = try started()
        _ = daemon.waitForLine { $0.contains("op=set audit_pid=\(daemon.pid)") }
        #expect(daemon.run.pidInPIDFile() == daemon.pid)
        for serial in 1...100 { try daemon.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): live") }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let lines = daemon.lines()
        #expect(lines.first?.contains("type=DAEMON_START msg=audit(") == true)
        #expect(lines.first?.contains(" pid=\(daemon.pid) ") == true)
        #expect(lines.filter { $0.hasSuffix("): live") }.count == 100)
        #expect(lines.last?.hasPrefix("type=DAEMON_END msg=audit(") == true)
        #expect(lines.last?.hasSuffix("): op=terminate \(Self.attribution) res=success") == true)
        #expect(daemon.kernel.registrations == [UInt32(daemon.pid), 0])
        #expect(!FileManager.default.fileExists(atPath: daemon.run.pidFile))
        #expect(!FileManager.default.fileExists(atPath: daemon.run.stateFile))
    }

    @Test func sighupWithABrokenFileKeepsTheDaemonOnItsOldConfiguration() throws {
        let daemon = try started()
        let moved = daemon.directory.appending("moved/audit.log")
        try daemon.directory.write("log_file=\(moved)\n", to: "auditd.conf")  // no spaces around '='
        daemon.signal(SIGHUP)
        let failed = daemon.waitForLine { $0.contains("type=DAEMON_CONFIG") }
        #expect(failed.last?.hasSuffix("): op=reconfigure state=no-change \(Self.attribution) res=failed") == true)
        #expect(daemon.process.isRunning)
        try daemon.kernel.emit(.syscall, "audit(1700000001.000:1): old file still")
        #expect(daemon.waitForLine { $0.hasSuffix("old file still") }.last?.hasSuffix("old file still") == true)
        #expect(daemon.diagnostics.contains("keeping the running configuration"))

        try daemon.directory.write("log_file = \(moved)\nlog_format = RAW\n", to: "auditd.conf")
        daemon.signal(SIGHUP)
        let applied = daemon.waitForLine(in: "moved/audit.log") { $0.contains("type=DAEMON_CONFIG") }
        #expect(applied.first?.hasSuffix("): op=reconfigure state=changed auid=0 pid=\(getpid()) subj=? res=success") == true)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(daemon.lines("moved/audit.log").last?.hasPrefix("type=DAEMON_END ") == true)
    }

    @Test func sigusr1RotatesWithDaemonRotateFirstAndSigusr2Resumes() throws {
        let daemon = try started()
        try daemon.kernel.emit(.syscall, "audit(1700000001.000:1): before the rotation")
        _ = daemon.waitForLine { $0.hasSuffix("before the rotation") }
        daemon.signal(SIGUSR1)
        let new = daemon.waitForLine { $0.contains("DAEMON_ROTATE") }
        #expect(new.first?.hasPrefix("type=DAEMON_ROTATE msg=audit(") == true)
        #expect(new.first?.hasSuffix("): op=rotate-logs \(Self.attribution) res=success") == true)
        #expect(daemon.lines("log/audit.log.1").last == "type=SYSCALL msg=audit(1700000001.000:1): before the rotation")

        daemon.signal(SIGUSR2)
        let resumed = daemon.waitForLine { $0.contains("DAEMON_RESUME") }
        #expect(resumed.last?.hasSuffix("): op=resume-logging \(Self.attribution) res=success") == true)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        // One serial per daemon record, counted up from the first.
        let daemonLines = (daemon.lines("log/audit.log.1") + daemon.lines()).filter { $0.hasPrefix("type=DAEMON_") }
        #expect(daemonLines.map { $0.prefix { $0 != " " } } == ["type=DAEMON_START", "type=DAEMON_ROTATE", "type=DAEMON_RESUME", "type=DAEMON_END"])
        let serials = daemonLines.compactMap(Self.serial)
        let first = try #require(serials.first)
        #expect(first < 10000)
        #expect(serials == [first, first + 1, first + 2, first + 3])
    }

    @Test func sigusr2ResumesLoggingAfterASuspensionAndStatusShowsIt() throws {
        // max_log_file_action = SUSPEND: past 1 MiB the log closes and records are only counted.
        let daemon = try DaemonProcess.spawned(extraConfiguration: "max_log_file = 1\nmax_log_file_action = SUSPEND\n")
        let log = daemon.logPath
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        let padding = String(repeating: "p", count: 300)
        for serial in 1...4000 { try daemon.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): \(padding)") }
        #expect(eventually { daemon.diagnostics.contains("Audit daemon is suspending logging due to logfile size.") },
                "\(daemon.diagnostics.suffix(400))")
        for serial in 1...10 { try daemon.kernel.emit(.syscall, "audit(1700000002.000:\(serial)): while suspended") }

        // status reads the suspension from the state report the daemon writes on SIGCONT.
        var behaviour = FakeKernel.Behaviour()
        behaviour.status = AuditStatus(enabled: 1, failure: 1, pid: UInt32(daemon.pid), backlogLimit: 8192)
        let status = try runCommand(["status", "--kernel-fd", "0", "--run-directory", daemon.run.path],
                                    kernel: try FakeKernel(behaviour))
        #expect(status.output.contains("logging:            SUSPENDED: Audit daemon is suspending logging due to logfile size."),
                "\(status.output)")
        #expect(status.output.contains("not logged while suspended"))

        // The administrator moves the full log away and resumes: a new file with DAEMON_RESUME
        // (after the lines that were buffered when logging stopped, which are older).
        #expect(rename(log, log + ".saved") == 0)
        daemon.signal(SIGUSR2)
        let resumed = daemon.waitForLine(in: "log/audit.log") { $0.contains("DAEMON_RESUME") }
        let resume = try #require(resumed.first { $0.contains("DAEMON_RESUME") })
        #expect(resume.hasPrefix("type=DAEMON_RESUME msg=audit("))
        #expect(resume.hasSuffix("): op=resume-logging \(Self.attribution) res=success"))
        try daemon.kernel.emit(.syscall, "audit(1700000003.000:1): after resume")
        #expect(daemon.waitForLine(in: "log/audit.log") { $0.hasSuffix("after resume") }.last?.hasSuffix("after resume") == true)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        let all = daemon.lines("log/audit.log.saved") + daemon.lines()
        #expect(all.filter { $0.hasSuffix("while suspended") }.isEmpty)
        #expect(all.last?.hasPrefix("type=DAEMON_END ") == true)
        // Every record is either on disk or counted as not logged; none is dropped.
        let kernelLines = all.filter { !$0.hasPrefix("type=DAEMON_") }.count
        #expect(daemon.diagnostics.contains("dropped=0"), "\(daemon.diagnostics.suffix(400))")
        #expect(daemon.diagnostics.contains("not_logged=\(4000 + 10 + 1 + 1 - kernelLines)"))  // + registration, + after resume
    }

    @Test func everyOtherSignalIsIgnored() throws {
        let daemon = try started()
        _ = daemon.waitForLine { $0.contains("op=set audit_pid=") }
        let before = daemon.lines()
        let others = [SIGPIPE, SIGQUIT, SIGALRM, SIGVTALRM, SIGWINCH, SIGURG, SIGXFSZ, SIGXCPU, SIGPWR, SIGSTKFLT,
                      SIGTSTP, SIGTTIN, SIGTTOU, SIGIO, Int32(__libc_current_sigrtmin()) + 3, Int32(__libc_current_sigrtmax())]
        for number in others { daemon.signal(number) }
        // The signals are pending before the record is sent: a fatal or stopping one would have
        // acted before the daemon could write the record, so the record is the barrier.
        try daemon.kernel.emit(.syscall, "audit(1700000001.000:1): still receiving")
        let after = daemon.waitForLine { $0.hasSuffix("still receiving") }
        #expect(after == before + ["type=SYSCALL msg=audit(1700000001.000:1): still receiving"])
        #expect(daemon.process.isRunning)
        #expect(daemon.processState != "T")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    @Test func sigintStopsToo() throws {
        let daemon = try started()
        daemon.signal(SIGINT)
        #expect(daemon.waitForExit() == 0)
        // The kernel does not remember SIGINT: the sender is taken from the signal itself.
        #expect(daemon.lines().last?.contains(" pid=\(getpid()) res=success") == true)
    }

    @Test func asRootTheDaemonIsProtectedFromTheOOMKillerAndBoosted() throws {
        try Requirement.check(Requirement.root)
        let daemon = try started()
        let score = try String(contentsOfFile: "/proc/\(daemon.pid)/oom_score_adj", encoding: .utf8)
        if Self.hasCapability(24) {  // CAP_SYS_RESOURCE: needed to lower oom_score_adj
            #expect(score.trimmingCharacters(in: .whitespacesAndNewlines) == "-1000")
        } else {
            // Not a skip: without the capability the daemon must say so and go on, and that is checked.
            print("oom_score_adj: this root lacks CAP_SYS_RESOURCE, so the case checked is the daemon saying it cannot set -1000")
            #expect(daemon.diagnostics.contains("cannot set oom_score_adj to -1000"))
            #expect(score.trimmingCharacters(in: .whitespacesAndNewlines) != "-1000")
        }
        errno = 0
        let niceness = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(daemon.pid))
        #expect(niceness == getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) - 4)  // priority_boost 4
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// Whether this process has capability `number` in its effective set.
    static func hasCapability(_ number: Int) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << UInt64(number)) != 0
    }

    static func serial(_ line: String) -> Int? {
        guard let open = line.firstRange(of: "msg=audit("), let close = line.firstRange(of: "): ") else { return nil }
        return line[open.upperBound..<close.lowerBound].split(separator: ":").last.flatMap { Int($0) }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct ExecutableControlTests {
    /// A second fake kernel for a control command, reporting `pid` as its registered daemon.
    func kernelReporting(_ pid: Int32, lost: UInt32 = 3) throws -> FakeKernel {
        var behaviour = FakeKernel.Behaviour()
        behaviour.status = AuditStatus(enabled: 1, failure: 1, pid: UInt32(pid), rateLimit: 0, backlogLimit: 8192, lost: lost, backlog: 2)
        behaviour.status.backlogWaitTime = 60000
        return try FakeKernel(behaviour)
    }

    @Test func rotateReloadResumeAndStopSignalTheDaemonTheKernelRegistered() throws {
        let daemon = try DaemonProcess.spawned()
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        let kernel = try kernelReporting(daemon.pid)

        let rotate = try runCommand(["rotate", "--kernel-fd", "0"], kernel: kernel)
        #expect(rotate.status == 0)
        #expect(rotate.output.contains("sent SIGUSR1 to swift-auditd (pid \(daemon.pid))"))
        #expect(daemon.waitForLine { $0.contains("DAEMON_ROTATE") }.first?.contains("DAEMON_ROTATE") == true)

        #expect(try runCommand(["reload", "--kernel-fd", "0"], kernel: kernel).status == 0)
        #expect(daemon.waitForLine { $0.contains("DAEMON_CONFIG") }.last?.contains("res=success") == true)
        #expect(try runCommand(["resume", "--kernel-fd", "0"], kernel: kernel).status == 0)
        #expect(daemon.waitForLine { $0.contains("DAEMON_RESUME") }.last?.contains("DAEMON_RESUME") == true)

        let stop = try runCommand(["stop", "--kernel-fd", "0"], kernel: kernel)
        #expect(stop.status == 0)
        #expect(stop.output.contains("swift-auditd (pid \(daemon.pid)) has exited"))
        // stop returned only once the process was gone.
        #expect(!daemon.process.isRunning || daemon.processState == "Z")
        #expect(daemon.waitForExit() == 0)
        #expect(daemon.lines().last?.contains("type=DAEMON_END") == true)
    }

    @Test func statusShowsTheKernelsCountersAndTheDaemonsOwn() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.heldRecords = [FakeKernel.Record(.user, "audit(1699999991.002:2): held")]
        let daemon = try DaemonProcess.spawned(behaviour)
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        for serial in 1...5 { try daemon.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): x") }
        _ = daemon.waitForLine { $0.hasSuffix(":5): x") }
        // The held backlog is known once the kernel reports an empty queue after the registration.
        var status = (status: Int32(-1), output: "")
        eventually(interval: .milliseconds(100)) {
            status = (try? runCommand(["status", "--kernel-fd", "0", "--run-directory", daemon.run.path],
                                      kernel: try kernelReporting(daemon.pid))) ?? status
            return status.output.contains("held backlog:       1 records")
        }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)

        #expect(status.status == 0, "\(status.output)")
        let output = status.output
        #expect(output.contains("enabled:            1 (on)"))
        #expect(output.contains("audit daemon:       swift-auditd (pid \(daemon.pid))"))
        #expect(output.contains("backlog:            2 of limit 8192"))
        #expect(output.contains("lost:               3"))
        #expect(output.contains("backlog wait time:  60000"))
        #expect(output.contains("log file:           \(daemon.logPath)"))
        #expect(output.contains("records written:    8 (7 from the kernel, 1 of its own)"))
        #expect(output.contains("held backlog:       1 records collected at registration"))
        #expect(output.contains("losses:             none"))
        #expect(output.contains("rotated files:      0; not rotated since start"))
    }

    @Test func statusWithoutARegisteredDaemonSaysSoAndExitsThree() throws {
        let kernel = try FakeKernel()
        let status = try runCommand(["status", "--kernel-fd", "0", "--run-directory", "/nonexistent"], kernel: kernel)
        #expect(status.status == 3)
        #expect(status.output.contains("audit daemon:       none registered"))
        #expect(status.output.contains("swift-auditd: not running"))
        let rotate = try runCommand(["rotate", "--kernel-fd", "0"], kernel: try FakeKernel())
        #expect(rotate.status == 1)
        #expect(rotate.output.contains("no audit daemon is registered with the kernel"))
    }

    @Test func exitStatusesAreAuditds() throws {
        #expect(try runCommand(["run", "--no-such-option"]).status == 2)
        #expect(try runCommand(["run", "-s", "sometimes"]).status == 2)

        let badConfiguration = try DaemonProcess.spawned(configuration: "log_file=/tmp/x\n")
        #expect(badConfiguration.waitForExit() == 6)

        var privilege = FakeKernel.Behaviour()
        privilege.statusError = EPERM
        #expect(try DaemonProcess.spawned(privilege).waitForExit() == 4)

        var taken = FakeKernel.Behaviour()
        taken.registrationError = EEXIST
        let refused = try DaemonProcess.spawned(taken)
        #expect(refused.waitForExit() == 1)
        #expect(refused.lines().first?.hasPrefix("type=DAEMON_START ") == true)
        #expect(refused.lines().last?.contains("type=DAEMON_ABORT msg=audit(") == true)
        #expect(refused.lines().last?.contains(": op=set-pid auid=") == true)
        #expect(!FileManager.default.fileExists(atPath: refused.run.pidFile))
    }

    @Test func withoutTheAuditCapabilitiesTheDaemonExitsFourAtOnce() throws {
        try Requirement.check(Requirement.root.map { "\($0) to drop to nobody" }
                              ?? Requirement.executable("/usr/bin/setpriv", package: "util-linux"))
        // As /etc/audit is: a root-owned directory nobody else may read, with an auditd.conf in it.
        // The privilege is checked first (as auditd), so the user hears that, not a config error.
        let directory = try TemporaryDirectory("swift-auditd-nobody")
        defer { directory.remove() }
        try directory.write("log_file = \(directory.appending("audit.log"))\n", to: "auditd.conf")
        #expect(chown(directory.path, 0, 0) == 0 && chmod(directory.path, 0o700) == 0)
        #expect(FileManager.default.isReadableFile(atPath: directory.appending("auditd.conf")))  // for root
        for arguments in [["run"], ["run", "--multicast"]] {
            let result = try shell("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                        builtDaemonPath()] + arguments + ["-c", directory.path])
            #expect(result.status == 4, "\(result.output)")
            #expect(result.output.contains("an audit daemon needs root with CAP_AUDIT_"))
            #expect(!result.output.contains("config file"), "\(result.output)")
            #expect(!result.output.contains("cannot open the audit log"))
        }
    }

    @Test func systemdHearsReadyOnlyAfterTheRegistrationAndStoppingAtTheEnd() throws {
        let directory = try TemporaryDirectory("swift-auditd-notify")
        defer { directory.remove() }
        let notify = try NotifySocket(path: directory.appending("notify"))
        var behaviour = FakeKernel.Behaviour()
        behaviour.registrationAckDelay = .milliseconds(300)
        let daemon = try DaemonProcess.spawned(behaviour, environment: ["NOTIFY_SOCKET": notify.path])
        let (ready, arrived) = try #require(notify.receive(timeout: .seconds(10)), "diagnostics: \(daemon.diagnostics)")
        #expect(ready.hasPrefix("READY=1\nSTATUS=Registered as the kernel's audit daemon (pid \(daemon.pid))"))
        #expect(arrived >= (try #require(daemon.kernel.registrationAcknowledgedAt)))
        daemon.signal(SIGTERM)
        #expect(notify.receive(until: "STOPPING=1") != nil)
        #expect(daemon.waitForExit() == 0)
    }

    @Test func systemdHearsNothingWhenTheRegistrationFails() throws {
        let directory = try TemporaryDirectory("swift-auditd-notify")
        defer { directory.remove() }
        let notify = try NotifySocket(path: directory.appending("notify"))
        var behaviour = FakeKernel.Behaviour()
        behaviour.registrationError = EEXIST
        let daemon = try DaemonProcess.spawned(behaviour, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(daemon.waitForExit() == 1)
        #expect(notify.receive(timeout: .milliseconds(200)) == nil)
    }

    @Test func anAbstractNotifySocketNameIsReached() throws {
        // '@name' is the abstract namespace: no file, a leading NUL on the wire.
        let name = "swift-auditd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in bytes.enumerated() { raw[index] = byte } }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        try #require(bound == 0)
        let daemon = try DaemonProcess.spawned(environment: ["NOTIFY_SOCKET": "@" + name])
        var watch = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&watch, 1, 10_000) == 1)
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = recv(listener, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer[0..<max(0, count)], as: UTF8.self).hasPrefix("READY=1\n"))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}
