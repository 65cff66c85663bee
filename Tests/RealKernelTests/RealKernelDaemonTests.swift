import AuditProtocol
import AuditTestKit
import Foundation
import Synchronization
import Testing

/// The daemon against this machine's kernel: registration, a rule's events in the log, ausearch
/// reading them, and a stop under load. Each test holds the machine-wide kernel lock, deletes the
/// rule it adds and puts `enabled` back; without root or a free daemon slot it skips, saying why.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RealKernelDaemonTests {
    /// A daemon process (`DaemonUnderTest`) with a configuration directory of its own, removed
    /// with it, and a RAW log at `log/audit.log`.
    final class DaemonProcess {
        let directory: TemporaryDirectory
        let logPath: String
        let daemon: DaemonUnderTest

        init() throws {
            directory = try TemporaryDirectory("swift-auditd-real")
            logPath = try DaemonUnderTest.configure(directory)
            daemon = try DaemonUnderTest(directory: directory)
        }

        var process: Process { daemon.process }
        var pid: Int32 { daemon.pid }
        /// The PID file and state report go here, never to the machine's /run/audit.
        var runDirectory: String { directory.appending("run") }
        var diagnostics: String { daemon.diagnostics }
        func waitUntilRegistered() -> Bool { daemon.waitUntilRegistered() }
        func terminate() -> Int32 { daemon.terminate() }

        func logLines(_ path: String? = nil) throws -> [String] {
            try String(contentsOfFile: path ?? logPath, encoding: .utf8).split(separator: "\n").map(String.init)
        }

        /// Waits until a line of the log (or `path`) satisfies `condition`; returns the lines.
        func waitForLine(in path: String? = nil, timeout: TimeInterval = 10, where condition: (String) -> Bool) -> [String] {
            let deadline = Date() + timeout
            var lines: [String] = []
            while Date() < deadline {
                lines = (try? logLines(path)) ?? []
                if lines.contains(where: condition) { break }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return lines
        }

        deinit {
            daemon.killAbruptly()
            directory.remove()
        }
    }

    func daemonMissing() -> String? {
        FileManager.default.isExecutableFile(atPath: builtDaemonPath())
            ? nil : "the swift-auditd executable is not built at \(builtDaemonPath())"
    }

    @Test func daemonRegistersAndWritesEveryEventOfARuleWhereAusearchFindsThem() async throws {
        try await RealKernel.withExclusiveUse("daemonRegistersAndWritesEveryEvent", alsoSkipIf: daemonMissing) {
            let daemon = try DaemonProcess()
            #expect(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            let rule = GetppidLoadRule()
            try rule.add()
            let events = 500
            for _ in 0..<events { _ = getppid() }
            rule.delete()
            #expect(daemon.terminate() == 0)
            let after = try RealKernel.status()
            #expect(after.pid == 0)

            let lines = try daemon.logLines()
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

            let search = try shell("/usr/sbin/ausearch", ["-if", daemon.logPath, "-k", rule.key, "-r"])
            // ausearch also finds auditctl's own add_rule and del_rule events under the key.
            let found = search.output.split(separator: "\n").filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(" pid=\(getpid()) ") }
            #expect(found.count == events, "ausearch: \(search.output.prefix(500))")

            let diagnostics = daemon.diagnostics
            #expect(diagnostics.contains("registered with the kernel as its audit daemon"))
            let commandLine = (try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) ?? ""
            if !commandLine.contains("audit=1") {
                #expect(diagnostics.contains("the kernel was not booted with audit=1"))
            }
            #expect(diagnostics.contains("received=\(lines.count - 2)"))
            #expect(diagnostics.contains("written=\(lines.count)"))
            #expect(diagnostics.contains("daemon_records=2"))
        }
    }

    @Test func sigtermDuringALoadLeavesEveryGeneratedEventOnDisk() async throws {
        try await RealKernel.withExclusiveUse("sigtermDuringALoad", alsoSkipIf: daemonMissing) {
            let daemon = try DaemonProcess()
            #expect(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            let rule = GetppidLoadRule()
            try rule.add()
            defer { rule.delete() }

            let stopGenerating = Atomic<Bool>(false)
            let generated = Atomic<Int>(0)
            let generator = Thread {
                // Bounded in count and time whatever happens to the daemon.
                let deadline = Date() + 30
                while !stopGenerating.load(ordering: .relaxed), generated.load(ordering: .relaxed) < 2_000_000, Date() < deadline {
                    _ = getppid()
                    generated.add(1, ordering: .relaxed)
                }
            }
            generator.start()
            Thread.sleep(forTimeInterval: 0.5)
            kill(daemon.pid, SIGTERM)
            stopGenerating.store(true, ordering: .relaxed)
            #expect(daemon.terminate() == 0)
            rule.delete()

            let count = generated.load(ordering: .relaxed)
            let onDisk = try daemon.logLines().filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(rule.key) }.count
            print("SIGTERM under load: \(count) events generated, \(onDisk) on disk")
            #expect(count > 1000)
            #expect(onDisk == count)
        }
    }
}
