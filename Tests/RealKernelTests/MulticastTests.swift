import AuditTestKit
import Foundation
import Testing

/// Shadow mode on this machine's kernel: the daemon joins the read-only multicast group instead of
/// registering, and logs what the kernel multicasts, while the daemon slot stays free.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MulticastTests {
    func daemonMissing() -> String? {
        FileManager.default.isExecutableFile(atPath: builtDaemonPath())
            ? nil : "the swift-auditd executable is not built at \(builtDaemonPath())"
    }

    @Test func realKernelShadowModeLogsARulesEventsWithoutRegistering() async throws {
        try await RealKernel.withExclusiveUse("multicast shadow mode", alsoSkipIf: daemonMissing) {
            // Shadow mode never switches auditing on; the test does (withExclusiveUse puts it back).
            try RealKernel.auditctl(["-e", "1"])
            let directory = try TemporaryDirectory("swift-auditd-multicast")
            defer { directory.remove() }
            let logPath = try DaemonUnderTest.configure(directory)
            let daemon = try DaemonUnderTest(directory: directory, arguments: ["--multicast"])
            defer { _ = daemon.terminate() }
            // Wait until the group delivers: the kernel's record of the join itself can be sent
            // before the membership takes effect, so probe with events of another rule instead.
            let probeKey = "swift-auditd-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let probe = ["always,exit", "-F", "arch=b64", "-S", "getpgrp", "-F", "pid=\(getpid())", "-k", probeKey]
            try RealKernel.auditctl(["-a"] + probe)
            defer { _ = try? shell("/usr/sbin/auditctl", ["-d"] + probe) }
            let delivering = Self.waitFor {
                _ = getpgrp()
                Thread.sleep(forTimeInterval: 0.02)
                return (try? String(contentsOfFile: logPath, encoding: .utf8))?.contains(probeKey) == true
            }
            try #require(delivering, "diagnostics: \(daemon.diagnostics)")
            _ = try? shell("/usr/sbin/auditctl", ["-d"] + probe)
            #expect(try RealKernel.status().pid == 0)

            let rule = GetppidLoadRule()
            try rule.add()
            let events = 300
            for _ in 0..<events { _ = getppid() }
            rule.delete()
            let lines = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
            let syscalls = { lines().split(separator: "\n").filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count }
            _ = Self.waitFor { syscalls() >= events }
            #expect(daemon.terminate() == 0)
            print("multicast shadow mode: \(syscalls()) of \(events) events logged, daemon slot left free")
            #expect(syscalls() == events)
            #expect(try RealKernel.status().pid == 0)
            #expect(daemon.diagnostics.contains("shadow mode"))
        }
    }

    static func waitFor(_ seconds: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date() + seconds
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}
