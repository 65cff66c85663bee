import AuditTestKit
import Foundation
import Testing

/// The daemon under a full-rate load on this machine's kernel: a million events, about 10 s here and
/// 720 MB of log in /tmp (removed after). `SWIFT_AUDITD_LOAD_EVENTS=N` changes the count (0 skips);
/// `make test-load` runs it alone against the release binary.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct LoadTests {
    static var events: Int { ProcessInfo.processInfo.environment["SWIFT_AUDITD_LOAD_EVENTS"].flatMap { Int($0) } ?? 1_000_000 }

    func notAsked() -> String? {
        if Self.events <= 0 { return "SWIFT_AUDITD_LOAD_EVENTS=\(Self.events) asks to skip it" }
        return FileManager.default.isExecutableFile(atPath: DaemonUnderTest.executablePath)
            ? nil : "the swift-auditd executable is not built at \(DaemonUnderTest.executablePath)"
    }

    @Test func realKernelAMillionEventsAtFullRateWithBacklogLimit8192AreAllOnDiskAndNoneLost() async throws {
        if let reason = notAsked() { return print("SKIP full-rate load: \(reason)") }
        try await RealKernel.withExclusiveUse("full-rate load") {
            let events = Self.events
            let directory = try TemporaryDirectory("swift-auditd-load")
            defer { directory.remove() }
            let logPath = try DaemonUnderTest.configure(directory)
            let before = try RealKernel.status()
            try RealKernel.auditctl(["-b", "8192"])
            defer { _ = try? RealKernel.auditctl(["-b", "\(before.backlogLimit)"]) }

            let daemon = try DaemonUnderTest(directory: directory)
            try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            let lostBefore = try RealKernel.status().lost
            let rule = GetppidLoadRule()
            try rule.add()
            defer { rule.delete() }

            let started = Date()
            for _ in 0..<events { _ = getppid() }
            let generating = Date().timeIntervalSince(started)
            rule.delete()
            let lostAfter = try RealKernel.status().lost
            #expect(daemon.terminate() == 0)
            let total = Date().timeIntervalSince(started)

            // grep, not Swift strings: the log is about half a gigabyte.
            let counted = try shell("/bin/grep", ["-c", "^type=SYSCALL .* key=\"\(rule.key)\"$", logPath])
            let onDisk = Int(counted.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            let size = (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
            #expect(lostAfter == lostBefore, "the kernel lost \(lostAfter &- lostBefore) records")
            #expect(onDisk == events)
            #expect(daemon.receivedAllWritten)
            #expect(daemon.summaryFigure("enobufs") == 0)
            print("""
                full-rate load, backlog_limit 8192: \(events) events in \(String(format: "%.1f", generating)) s \
                (\(Int(Double(events) / generating)) events/s), \(onDisk) on disk, kernel lost \(lostAfter &- lostBefore), \
                \(daemon.summaryFigure("written") ?? -1) lines, \(size / 1_000_000) MB, \
                \(String(format: "%.1f", total)) s to a stopped daemon
                """)
        }
    }
}
