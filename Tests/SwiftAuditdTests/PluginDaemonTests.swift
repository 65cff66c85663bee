import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// The executable with plugins, on a fake kernel: what a plugin gets, what `status` shows, and that
/// no plugin can hold back the log. Root only: plugin files and programs must be owned by root.
@Suite(.timeLimit(.minutes(2)))
struct PluginDaemonTests {
    /// A plugins.d of the test's own with one capture plugin (its standard input appended to a
    /// file), and the daemon on a fake kernel with `plugin_dir` naming it.
    struct Setup {
        let directory: TemporaryDirectory
        let plugins: String
        let program: String

        init() throws {
            try Requirement.check(Requirement.root.map { "\($0): plugin files and programs must be owned by root" })
            directory = try TemporaryDirectory("swift-auditd-plugin-daemon")
            plugins = directory.appending("plugins.d")
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
            program = try CapturePlugin.program(in: directory)
        }

        func addPlugin(_ name: String, program: String? = nil, args: String, format: String = "string") throws {
            let path = try directory.write("active = yes\ndirection = out\npath = \(program ?? self.program)\ntype = always\nargs = \(args)\nformat = \(format)\n",
                                           to: "plugins.d/\(name)")
            chmod(path, 0o640)
        }

        func lines(_ name: String) -> [String] { (try? directory.lines(of: name)) ?? [] }

        func start(_ extra: String = "") throws -> DaemonProcess {
            let daemon = try DaemonProcess.spawned(extraConfiguration: "plugin_dir = \(plugins)\n" + extra)
            try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            return daemon
        }

        func status(_ daemon: DaemonProcess) throws -> String {
            var behaviour = FakeKernel.Behaviour()
            behaviour.status = AuditStatus(enabled: 1, failure: 1, pid: UInt32(daemon.pid), backlogLimit: 8192)
            return try runCommand(["status", "--kernel-fd", "0", "--run-directory", daemon.run.path], kernel: try FakeKernel(behaviour)).output
        }
    }

    @Test func aPluginGetsTheDaemonsRecordsTheKernelsAndEachEventsEndInOrder() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try setup.addPlugin("capture.conf", args: setup.directory.appending("plugin.txt"))
        let daemon = try setup.start()
        try daemon.kernel.emit(.syscall, "audit(1700000001.000:1): arch=c000003e syscall=110 key=\"k\"")
        try daemon.kernel.emit(.endOfEvent, "audit(1700000001.000:1): ")
        #expect(eventually { setup.lines("plugin.txt").count >= 4 })
        let status = try setup.status(daemon)
        #expect(status.contains("capture.conf: "), "\(status)")
        #expect(status.contains(" running pid "), "\(status)")
        #expect(daemon.terminate() == 0)
        let got = setup.lines("plugin.txt")
        let log = daemon.lines()
        // RAW without a node name: the kernel's text behind type and msg, EOE included (the log has none).
        #expect(got.first?.hasPrefix("type=DAEMON_START msg=audit(") == true)
        #expect(got.contains("type=SYSCALL msg=audit(1700000001.000:1): arch=c000003e syscall=110 key=\"k\""))
        #expect(got.contains("type=EOE msg=audit(1700000001.000:1): "))
        #expect(!log.contains { $0.hasPrefix("type=EOE") })
        #expect(got.last?.hasPrefix("type=DAEMON_END msg=audit(") == true, "the plugin gets DAEMON_END before end of file")
        #expect(got.filter { !$0.hasPrefix("type=EOE") } == log, "every line the log has, in the same order")
        #expect(daemon.diagnostics.contains("plugin capture.conf: "))
    }

    @Test func aStoppedPluginNeverHoldsBackTheLogAndItsDropsAreCounted() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try setup.addPlugin("stalled.conf", args: setup.directory.appending("plugin.txt"))
        let daemon = try setup.start("q_depth = 100\n")
        let pid = try #require(setup.status(daemon).firstMatch(of: /stalled\.conf: .* pid (\d+)/).flatMap { Int32($0.1) })
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let records = 5000
        let padding = String(repeating: "x", count: 200)
        for serial in 1...records { try daemon.kernel.emit(.syscall, "audit(1700000002.000:\(serial)): \(padding)") }
        #expect(eventually { daemon.lines().filter { $0.hasPrefix("type=SYSCALL") }.count == records },
                "the log takes every record while the plugin is stopped")
        let status = try setup.status(daemon)
        let dropped = status.firstMatch(of: /stalled\.conf: .* dropped (\d+)/).flatMap { Int($0.1) } ?? 0
        #expect(dropped > 0, "\(status)")
        kill(pid, SIGCONT)
        #expect(daemon.terminate() == 0)
        let delivered = setup.lines("plugin.txt").filter { $0.hasPrefix("type=SYSCALL") }.count
        let summary = daemon.diagnostics.split(separator: "\n").last { $0.contains("plugin stalled.conf:") } ?? ""
        let droppedAtStop = summary.firstMatch(of: /dropped (\d+)/).flatMap { Int($0.1) } ?? -1
        #expect(delivered + droppedAtStop >= records, "each record reached the plugin or was counted: \(delivered) + \(droppedAtStop)")
        print("plugin stopped with SIGSTOP, q_depth 100: \(records) records, all \(records) in the log; the plugin got \(delivered), dropped \(droppedAtStop) (stop summary)")
    }

    @Test func aPluginKilledWithSigkillIsRestartedAndASighupAddsANewOne() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try setup.addPlugin("first.conf", args: setup.directory.appending("first.txt"))
        let daemon = try setup.start()
        let pid = try #require(setup.status(daemon).firstMatch(of: /first\.conf: .* pid (\d+)/).flatMap { Int32($0.1) })
        kill(pid, SIGKILL)
        #expect(eventually(interval: .milliseconds(100)) { (try? setup.status(daemon))?.contains("restarts 1") == true })
        try daemon.kernel.emit(.syscall, "audit(1700000003.000:1): after the kill")
        #expect(eventually { setup.lines("first.txt").contains("type=SYSCALL msg=audit(1700000003.000:1): after the kill") })

        try setup.addPlugin("second.conf", args: setup.directory.appending("second.txt"))
        daemon.signal(SIGHUP)
        #expect(eventually(interval: .milliseconds(100)) { (try? setup.status(daemon))?.contains("second.conf: ") == true })
        try daemon.kernel.emit(.syscall, "audit(1700000003.000:2): after the reload")
        #expect(eventually { setup.lines("second.txt").contains("type=SYSCALL msg=audit(1700000003.000:2): after the reload") })
        #expect(daemon.terminate() == 0)
        #expect(setup.lines("first.txt").last?.hasPrefix("type=DAEMON_END") == true)
    }

    /// Debian's audisp-syslog (auditd package) as a real plugin: what it says reaches a syslog
    /// socket at /dev/log that the test owns (none runs on these machines; with one running, the
    /// test cannot own the socket and says so).
    @Test func debiansAudispSyslogForwardsRecordsToSyslog() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try Requirement.check(Requirement.executable("/sbin/audisp-syslog", package: "auditd"))
        try Requirement.check(FileManager.default.fileExists(atPath: "/dev/log") ? "a syslog daemon owns /dev/log" : nil)
        let syslog = try SyslogSocket(path: "/dev/log")
        defer { syslog.close() }
        try setup.addPlugin("syslog.conf", program: "/sbin/audisp-syslog", args: "LOG_INFO")
        let daemon = try setup.start()
        try daemon.kernel.emit(.syscall, "audit(1700000004.000:1): arch=c000003e syscall=59 key=\"syslog-test\"")
        #expect(eventually { syslog.messages().contains { $0.contains("syslog-test") } })
        #expect(daemon.terminate() == 0)
        let message = syslog.messages().first { $0.contains("syslog-test") } ?? ""
        print("audisp-syslog: \(message)")
        #expect(message.hasPrefix("<14>"), "LOG_INFO, facility user: \(message)")
        #expect(message.contains("type=SYSCALL msg=audit(1700000004.000:1): arch=c000003e syscall=59 key=\"syslog-test\""))
    }

    /// A datagram socket at `path` taking what syslog(3) sends; removed by `close`.
    final class SyslogSocket {
        let fd: Int32
        let path: String
        private var received: [String] = []

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0, "bind \(path): errno \(errno)")
            chmod(path, 0o666)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        func messages() -> [String] {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while case let count = recv(fd, &buffer, buffer.count, 0), count > 0 {
                received.append(String(decoding: buffer[0..<count], as: UTF8.self))
            }
            return received
        }

        func close() {
            Glibc.close(fd)
            unlink(path)
        }
    }
}
