import AuditTestKit
import Foundation
import KernelTestKit
import Testing

/// The plugin as Debian's auditd 3.0.9 runs it: a plugins.d file naming the built plugin, auditd
/// registered with the real kernel (under the kernel lock), user messages from `auditctl -m`
/// through the kernel, auditd and the plugin to the receiver.
@Suite(.serialized) struct DebianAuditdPluginTests {
    @Test(.timeLimit(.minutes(3)))
    func realKernelDebianAuditdFeedsThePluginEveryEvent() async throws {
        try Requirement.check(Requirement.executable("/usr/sbin/auditd", package: "auditd"))
        let setup = try PluginProcessTests.Setup()
        let directory = setup.directory
        let marker = "swift-auditd-otlp-test-\(getpid())"
        let messages = 20
        try await RealKernel.withExclusiveUse {
            try FileManager.default.createDirectory(atPath: directory.appending("plugins.d"), withIntermediateDirectories: true)
            let conf = try directory.write("""
                log_file = \(directory.appending("audit.log"))
                log_format = ENRICHED
                flush = INCREMENTAL_ASYNC
                freq = 50
                max_log_file = 100
                space_left = 2
                admin_space_left = 1
                plugin_dir = \(directory.appending("plugins.d"))

                """, to: "auditd.conf")
            chmod(conf, 0o640)
            let plugin = try directory.write("""
                active = yes
                direction = out
                path = \(PluginProcess.executablePath)
                type = always
                args = \(setup.configuration)
                format = string

                """, to: "plugins.d/swift-auditd-otlp.conf")
            chmod(plugin, 0o640)
            // The test runner's threads block SIGTERM and a child inherits the mask: auditd would
            // never see the stop. python3 (here for the receiver anyway) clears it and execs auditd.
            let auditd = Process()
            auditd.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            auditd.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
                                "/usr/sbin/auditd", "-n", "-c", directory.path]
            auditd.standardOutput = FileHandle.nullDevice
            _ = FileManager.default.createFile(atPath: directory.appending("auditd.out"), contents: nil)
            auditd.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.appending("auditd.out")))
            try auditd.run()
            defer { Self.stop(auditd) }
            let registered = eventually(timeout: .seconds(15)) {
                (try? RealKernel.status())?.pid == UInt32(auditd.processIdentifier) || !auditd.isRunning
            }
            try #require(registered && auditd.isRunning, "auditd did not register: \((try? String(contentsOfFile: directory.appending("auditd.out"), encoding: .utf8)) ?? "")")
            try RealKernel.auditctl(["-e", "1"])
            for number in 0..<messages { try RealKernel.auditctl(["-m", "\(marker) \(number)"]) }

            let arrived = eventually(timeout: .seconds(30)) {
                setup.receiver.records().filter { ($0["body"] as? String)?.contains(marker) == true }.count >= messages
            }
            #expect(arrived, "auditd and plugin said: \((try? String(contentsOfFile: directory.appending("auditd.out"), encoding: .utf8)) ?? "nothing")")
            let ours = setup.receiver.records().filter { ($0["body"] as? String)?.contains(marker) == true }
            #expect(ours.count == messages)
            #expect(ours.allSatisfy { ($0["attributes"] as? [String: Any])?["audit.type"] as? String == "USER" })
            Self.stop(auditd)
        }
    }

    /// SIGTERM, and SIGKILL if auditd is still there 10 s later: the kernel's slot must come free.
    static func stop(_ auditd: Process) {
        guard auditd.isRunning else { return }
        kill(auditd.processIdentifier, SIGTERM)
        if !eventually(timeout: .seconds(10), { !auditd.isRunning }) { kill(auditd.processIdentifier, SIGKILL) }
        auditd.waitUntilExit()
    }
}
