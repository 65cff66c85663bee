import AuditNetlink
import AuditProtocol
import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// Faults on this machine's kernel, each with the figure it proves. (SIGTERM in the middle of a
    /// load is `RealKernelDaemonTests.sigtermDuringALoadLeavesEveryGeneratedEventOnDisk`.)
    @Suite(.timeLimit(.minutes(3)))
    struct FaultTests {
        @Test func realKernelKillNineInTheMiddleOfALoadThenRestartLeavesWholeLinesAndAppends() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let directory = try TemporaryDirectory("swift-auditd-kill9")
                defer { directory.remove() }
                let logPath = try AuditdConf(in: directory).write(to: directory)
                let rule = AuditRule()

                let first = try DaemonProcess.registered(in: directory, diagnostics: "first.txt")
                defer { first.clearDeadRegistration() }
                let thread = try AuditedThread(provingWith: logPath)
                try rule.add()
                defer { rule.delete() }
                let load = thread.startGetppidLoad(limit: 2_000_000, seconds: 20)
                // Kill once the load is well under way and reaching the disk.
                #expect(eventually { rule.syscallLines(in: logPath) >= 1000 }, "diagnostics: \(first.diagnostics)")
                first.killAbruptly()
                let generated = load.stop()
                rule.delete()
                first.clearDeadRegistration()

                let before = try Data(contentsOf: URL(fileURLWithPath: logPath))
                let firstLog = try readLog(logPath)
                let firstEvents = firstLog.lines.filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count
                // The last line may be cut by the kill (a write the kill ended between pages); the
                // restart keeps its bytes and ends it with a newline. Every other line is whole.
                let torn = firstLog.lines.dropLast(firstLog.endsWithNewline ? 0 : 1).filter { !isWholeRecordLine($0) }
                #expect(torn.isEmpty, "not whole after kill -9: \(torn.prefix(3))")
                #expect(firstEvents > 1000, "the load reached the disk before the kill")

                // The second process registers although the kernel still names the dead one (its
                // AUDIT_REPLACE probe finds the socket gone), and appends after what is there.
                let second = try DaemonProcess.registered(in: directory, diagnostics: "second.txt")
                try rule.add()
                let more = 1000
                thread.callGetppid(more)
                rule.delete()
                #expect(second.terminate() == 0)

                let after = try Data(contentsOf: URL(fileURLWithPath: logPath))
                #expect(after.prefix(before.count) == before, "the restart changed what the first process wrote")
                if !firstLog.endsWithNewline {
                    #expect(after.dropFirst(before.count).first == 0x0A, "the torn line is ended before anything is appended")
                }
                let log = try readLog(logPath)
                #expect(log.endsWithNewline)
                let notWhole = log.lines.filter { !isWholeRecordLine($0) }
                // (A cut exactly before the newline leaves a whole line, ended now.)
                let tornLine = (firstLog.endsWithNewline ? [] : [firstLog.lines.last ?? ""]).filter { !isWholeRecordLine($0) }
                #expect(notWhole == tornLine, "not whole: \(notWhole.prefix(3))")
                let appended = log.lines.dropFirst(firstLog.lines.count)
                #expect(appended.first?.hasPrefix("type=DAEMON_START ") == true,
                        "the new process's first line is its DAEMON_START: \(appended.first ?? "nothing")")
                #expect(appended.dropFirst().first?.contains("op=set audit_pid=\(second.pid) ") == true,
                        "then its registration: \(appended.dropFirst().first ?? "nothing")")
                let appendedEvents = appended.filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count
                #expect(appendedEvents == more)
                #expect(second.receivedAllWritten)
                print("""
                    kill -9 under load: \(generated) events generated, \(firstEvents) on disk when killed \
                    (\(firstLog.bytes) bytes, \(firstLog.lines.count) lines, ends with newline: \(firstLog.endsWithNewline)); \
                    after restart \(appended.count) lines appended, \(appendedEvents) of \(more) events, \
                    \(notWhole.count) lines not whole
                    """)
            }
        }

        @Test func realKernelASmallReceiveBufferOverflowsIsCountedAndTheDaemonKeepsGoing() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let directory = try TemporaryDirectory("swift-auditd-enobufs")
                defer { directory.remove() }
                let logPath = try AuditdConf(in: directory).write(to: directory)
                let rule = AuditRule()
                let daemon = try DaemonProcess.registered(in: directory, arguments: ["--test-receive-buffer", "4096"])
                let thread = try AuditedThread(provingWith: logPath)
                // With backlog_wait_time 0 the kernel does not make the load wait for the stalled daemon:
                // what its queues cannot hold is dropped and counted in `lost`, which the daemon must report.
                let before = try RealKernel.status()
                try RealKernel.auditctl(["--backlog_wait_time", "0"])
                defer { _ = try? RealKernel.auditctl(["--backlog_wait_time", "\(before.backlogWaitTime)"]) }
                let lostBefore = before.lost

                try rule.add()
                defer { rule.delete() }
                // The daemon keeps up with a full-rate load even through 8 KiB, so it is also stopped in
                // the middle of it (SIGSTOP, as a daemon swapped out or starved would be) until its
                // socket overflowed (the kernel's netlink table counts the drops), then let go.
                let load = thread.startGetppidLoad(limit: 5_000_000, seconds: 4)
                load.waitUntilMade(10_000)
                daemon.signal(SIGSTOP)
                let overflowed = eventually(timeout: .seconds(3)) { (daemon.auditSocket()?.drops ?? 0) > 0 }
                daemon.signal(SIGCONT)
                let generated = load.waitUntilDone()
                rule.delete()
                #expect(overflowed, "the daemon's socket did not overflow while it was stopped")

                // After the overflow: records the kernel makes must still reach the log.
                let token = UInt32.random(in: 0...UInt32.max)
                let markers = 20
                try sendUserRecords((1...markers).map { "after-overflow-\(token) \($0)" })
                let markersWritten = { ((try? readLog(logPath).lines) ?? []).filter { $0.contains("after-overflow-\(token)") }.count }
                eventually { markersWritten() >= markers }
                let lostAfter = try RealKernel.status().lost
                #expect(daemon.terminate() == 0)

                let onDisk = rule.syscallLines(in: logPath)
                let overruns = daemon.summaryFigure("enobufs") ?? 0
                let reportedLost = daemon.summaryFigure("kernel_lost_while_running")
                let granted = daemon.diagnostics.firstMatch(of: /receive_buffer=(\d+)/).map { String($0.1) } ?? "not reported"
                let diagnostics = daemon.diagnostics
                #expect(granted == "8192", "the kernel doubles the 4096 asked for")
                #expect(overruns > 0, "diagnostics: \(diagnostics.suffix(2000))")
                #expect(diagnostics.contains("netlink receive queue overflowed (ENOBUFS)"))
                #expect(lostAfter > lostBefore, "the stall made the kernel drop records")
                #expect(reportedLost == Int(lostAfter &- lostBefore), "the daemon reports the kernel's lost delta")
                #expect(markersWritten() == markers, "the daemon kept going")
                #expect(daemon.receivedAllWritten)
                print("""
                    receive buffer 4096 (granted \(granted)), daemon stopped until its socket overflowed, \
                    backlog_wait_time 0: \(generated) events generated, \(onDisk) on disk, \
                    ENOBUFS \(overruns) times, kernel lost \(lostAfter &- lostBefore) records (daemon reports \
                    \(reportedLost.map(String.init) ?? "nothing")), \(generated - onDisk) events missing; \
                    \(markersWritten()) of \(markers) records sent afterwards written
                    """)
            }
        }
    }
}
