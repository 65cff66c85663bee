import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// The daemon under a full-rate load on this machine's kernel: a million events, about 10 s here
    /// and 720 MB of log in /tmp (removed after). `SWIFT_AUDITD_LOAD_EVENTS=N` changes the count
    /// (0 leaves the test out, on purpose, so not even CI counts it as missing); `make test-load`
    /// runs it alone against the release binary.
    @Suite(.timeLimit(.minutes(5)))
    struct LoadTests {
        static var events: Int { ProcessInfo.processInfo.environment["SWIFT_AUDITD_LOAD_EVENTS"].flatMap { Int($0) } ?? 1_000_000 }

        @Test(.enabled(if: events > 0, "SWIFT_AUDITD_LOAD_EVENTS=0 leaves the load test out"))
        func realKernelAMillionEventsAtFullRateWithBacklogLimit8192AreAllOnDiskAndNoneLost() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let events = Self.events
                let directory = try TemporaryDirectory("swift-auditd-load")
                defer { directory.remove() }
                let logPath = try AuditdConf(in: directory).write(to: directory)
                let before = try RealKernel.status()
                try RealKernel.auditctl(["-b", "8192"])
                defer { _ = try? RealKernel.auditctl(["-b", "\(before.backlogLimit)"]) }

                let daemon = try DaemonProcess.registered(in: directory)
                let thread = try AuditedThread(provingWith: logPath)
                let lostBefore = try RealKernel.status().lost
                let rule = AuditRule()
                try rule.add()
                defer { rule.delete() }

                let started = ContinuousClock.now
                thread.callGetppid(events)
                let generating = ContinuousClock.now - started
                rule.delete()
                let lostAfter = try RealKernel.status().lost
                #expect(daemon.terminate() == 0)
                let total = ContinuousClock.now - started

                // grep, not Swift strings: the log is about half a gigabyte.
                let onDisk = rule.syscallLines(in: logPath)
                let size = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
                #expect(lostAfter == lostBefore, "the kernel lost \(lostAfter &- lostBefore) records")
                #expect(onDisk == events)
                #expect(daemon.receivedAllWritten)
                #expect(daemon.summaryFigure("enobufs") == 0)
                print("""
                    full-rate load, backlog_limit 8192: \(events) events in \(String(format: "%.1f", generating.seconds)) s \
                    (\(Int(Double(events) / generating.seconds)) events/s), \(onDisk) on disk, kernel lost \(lostAfter &- lostBefore), \
                    \(daemon.summaryFigure("written") ?? -1) lines, \(size / 1_000_000) MB, \
                    \(String(format: "%.1f", total.seconds)) s to a stopped daemon
                    """)
            }
        }
    }
}
