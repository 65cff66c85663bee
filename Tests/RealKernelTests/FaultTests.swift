import AuditNetlink
import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// Faults on this machine's kernel, each with the figure it proves. (SIGTERM in the middle of a
/// load is `RealKernelDaemonTests.sigtermDuringALoadLeavesEveryGeneratedEventOnDisk`.)
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FaultTests {
    func daemonMissing() -> String? {
        FileManager.default.isExecutableFile(atPath: builtDaemonPath())
            ? nil : "the swift-auditd executable is not built at \(builtDaemonPath())"
    }

    /// A daemon killed with SIGKILL leaves the kernel believing it is registered until a send to
    /// its dead socket fails; make sure that happened before the next test looks at the slot.
    static func clearDeadRegistration(of pid: Int32) {
        for _ in 0..<20 {
            guard let status = try? RealKernel.status(), status.pid == UInt32(pid) else { return }
            try? sendUserRecords(["swift-auditd-test: probing a dead daemon's registration"])
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Whether a line of the kill -9 test is whole: a stamp, and the end its type always has.
    static func isWholeLine(_ line: Substring, key: String) -> Bool {
        guard isWholeRecordLine(line) else { return false }
        if line.hasPrefix("type=SYSCALL ") { return line.hasSuffix(" key=\"\(key)\"") || !line.contains(" pid=\(getpid()) ") }
        if line.hasPrefix("type=PROCTITLE ") {
            guard let value = line.range(of: " proctitle=") else { return false }
            let text = line[value.upperBound...]
            return text.allSatisfy(\.isHexDigit) || (text.hasPrefix("\"") && text.hasSuffix("\""))
        }
        if line.hasPrefix("type=CONFIG_CHANGE ") { return line.hasSuffix(" res=1") || line.hasSuffix(" res=0") }
        return true
    }

    @Test func realKernelKillNineInTheMiddleOfALoadThenRestartLeavesWholeLinesAndAppends() async throws {
        try await RealKernel.withExclusiveUse("kill -9 under load, then restart", alsoSkipIf: daemonMissing) {
            let directory = try TemporaryDirectory("swift-auditd-kill9")
            defer { directory.remove() }
            let logPath = try DaemonUnderTest.configure(directory)
            let rule = GetppidLoadRule()

            let first = try DaemonUnderTest(directory: directory, diagnostics: "first.txt")
            defer { Self.clearDeadRegistration(of: first.pid) }
            try #require(first.waitUntilRegistered(), "diagnostics: \(first.diagnostics)")
            try rule.add()
            defer { rule.delete() }
            let load = GetppidLoad(limit: 2_000_000, seconds: 20)
            Thread.sleep(forTimeInterval: 0.5)
            first.killAbruptly()
            let generated = load.stop()
            rule.delete()
            Self.clearDeadRegistration(of: first.pid)

            let before = try Data(contentsOf: URL(fileURLWithPath: logPath))
            let firstLog = try readLog(logPath)
            let firstEvents = firstLog.lines.filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count
            let torn = firstLog.lines.filter { !Self.isWholeLine($0, key: rule.key) }
            #expect(torn.isEmpty, "not whole after kill -9: \(torn.prefix(3))")
            #expect(firstEvents > 1000, "the load reached the disk before the kill")

            // The second process registers although the kernel still names the dead one (its
            // AUDIT_REPLACE probe finds the socket gone), and appends after what is there.
            let second = try DaemonUnderTest(directory: directory, diagnostics: "second.txt")
            try #require(second.waitUntilRegistered(), "diagnostics: \(second.diagnostics)")
            try rule.add()
            let more = 1000
            for _ in 0..<more { _ = getppid() }
            rule.delete()
            #expect(second.terminate() == 0)

            let after = try Data(contentsOf: URL(fileURLWithPath: logPath))
            #expect(after.prefix(before.count) == before, "the restart changed what the first process wrote")
            let log = try readLog(logPath)
            #expect(log.endsWithNewline)
            let notWhole = log.lines.filter { !Self.isWholeLine($0, key: rule.key) }
            #expect(notWhole.isEmpty, "not whole: \(notWhole.prefix(3))")
            let appended = log.lines.dropFirst(firstLog.lines.count)
            #expect(appended.first?.hasPrefix("type=DAEMON_START ") == true,
                    "the new process's first line is its DAEMON_START: \(appended.first ?? "nothing")")
            #expect(appended.dropFirst().first?.contains("op=set audit_pid=\(second.pid) ") == true,
                    "then its registration: \(appended.dropFirst().first ?? "nothing")")
            #expect(appended.filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count == more)
            #expect(second.receivedAllWritten)
            print("""
                kill -9 under load: \(generated) events generated, \(firstEvents) on disk when killed \
                (\(firstLog.bytes) bytes, \(firstLog.lines.count) lines, ends with newline: \(firstLog.endsWithNewline)); \
                after restart \(appended.count) lines appended, \(more) of \(more) events, every line whole
                """)
        }
    }

    @Test func realKernelASmallReceiveBufferOverflowsIsCountedAndTheDaemonKeepsGoing() async throws {
        try await RealKernel.withExclusiveUse("receive buffer overflow", alsoSkipIf: daemonMissing) {
            let directory = try TemporaryDirectory("swift-auditd-enobufs")
            defer { directory.remove() }
            let logPath = try DaemonUnderTest.configure(directory)
            let rule = GetppidLoadRule()
            let daemon = try DaemonUnderTest(directory: directory, arguments: ["--test-receive-buffer", "4096"])
            try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            // With backlog_wait_time 0 the kernel does not make the load wait for the stalled daemon:
            // what its queues cannot hold is dropped and counted in `lost`, which the daemon must report.
            let before = try RealKernel.status()
            try RealKernel.auditctl(["--backlog_wait_time", "0"])
            defer { _ = try? RealKernel.auditctl(["--backlog_wait_time", "\(before.backlogWaitTime)"]) }
            let lostBefore = before.lost

            try rule.add()
            defer { rule.delete() }
            // The daemon keeps up with a full-rate load even through 8 KiB, so it is also stalled for
            // half a second in the middle of it (SIGSTOP, as a daemon swapped out or starved would be).
            let load = GetppidLoad(limit: 5_000_000, seconds: 2)
            Thread.sleep(forTimeInterval: 0.3)
            kill(daemon.pid, SIGSTOP)
            Thread.sleep(forTimeInterval: 0.5)
            kill(daemon.pid, SIGCONT)
            let generated = load.waitUntilDone()
            rule.delete()

            // After the overflow: records the kernel makes must still reach the log.
            let token = UInt32.random(in: 0...UInt32.max)
            let markers = 20
            Thread.sleep(forTimeInterval: 0.5)
            try sendUserRecords((1...markers).map { "after-overflow-\(token) \($0)" })
            let deadline = Date() + 10
            while Date() < deadline,
                  ((try? readLog(logPath).lines) ?? []).filter({ $0.contains("after-overflow-\(token)") }).count < markers {
                Thread.sleep(forTimeInterval: 0.05)
            }
            let lostAfter = try RealKernel.status().lost
            #expect(daemon.terminate() == 0)

            let lines = try readLog(logPath).lines
            let onDisk = lines.filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count
            let overruns = daemon.summaryFigure("enobufs") ?? 0
            let reportedLost = daemon.summaryFigure("kernel_lost_while_running")
            let diagnostics = daemon.diagnostics
            #expect(diagnostics.contains("receive_buffer=8192"), "the kernel doubles the 4096 asked for")
            #expect(overruns > 0, "diagnostics: \(diagnostics.suffix(2000))")
            #expect(diagnostics.contains("netlink receive queue overflowed (ENOBUFS)"))
            #expect(lostAfter > lostBefore, "the stall made the kernel drop records")
            #expect(reportedLost == Int(lostAfter &- lostBefore), "the daemon reports the kernel's lost delta")
            #expect(lines.filter { $0.contains("after-overflow-\(token)") }.count == markers, "the daemon kept going")
            #expect(daemon.receivedAllWritten)
            print("""
                receive buffer 4096 (granted 8192), daemon stalled 0.5 s, backlog_wait_time 0: \(generated) events generated, \(onDisk) on disk, \
                ENOBUFS \(overruns) times, kernel lost \(lostAfter &- lostBefore) records (daemon reports \
                \(reportedLost.map(String.init) ?? "nothing")), \(generated - onDisk) events missing; \
                \(markers) of \(markers) records sent afterwards written
                """)
        }
    }
}
