import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// Issue 11's real components end to end: swift-auditd (on a fake kernel) runs Debian's
/// `audisp-remote` as a plugin, from Debian's own `au-remote.conf` set active, and it ships every
/// record to Debian's `auditd -n` acting as the central server (`local_events = no`: it never
/// touches the kernel). The client's `node=` name comes from swift-auditd's `name_format`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AudispRemotePluginTests {
    /// Debian's auditd as a central server in `directory/central`, listening on `port`.
    static func startCentral(in directory: TemporaryDirectory, port: Int) throws -> Process {
        let central = directory.appending("central")
        try FileManager.default.createDirectory(atPath: central + "/plugins.d", withIntermediateDirectories: true)
        try directory.write("""
            local_events = no
            log_file = \(central)/audit.log
            log_format = RAW
            flush = INCREMENTAL_ASYNC
            freq = 50
            num_logs = 5
            space_left = 2
            admin_space_left = 1
            tcp_listen_port = \(port)
            use_libwrap = no
            plugin_dir = \(central)/plugins.d
            """ + "\n", to: "central/auditd.conf")
        let auditd = Process()
        auditd.executableURL = URL(fileURLWithPath: "/usr/sbin/auditd")
        auditd.arguments = ["-n", "-c", central]
        auditd.standardOutput = FileHandle.nullDevice
        auditd.standardError = FileHandle.nullDevice
        try auditd.run()
        return auditd
    }

    @Test func debiansAudispRemoteAsAPluginShipsEveryRecordToDebiansCentralAuditd() throws {
        try Requirement.check(AudispRemote.unavailable ?? Requirement.executable("/usr/sbin/auditd", package: "auditd")
                              ?? Requirement.executable("/usr/sbin/ausearch", package: "auditd"))
        let directory = try TemporaryDirectory("swift-auditd-au-remote")
        defer { directory.remove() }
        let port = try CentralServerTests.freePort()
        let central = try Self.startCentral(in: directory, port: port)
        defer {
            kill(central.processIdentifier, SIGTERM)
            if !eventually(timeout: .seconds(10), { !central.isRunning }) { kill(central.processIdentifier, SIGKILL) }
            central.waitUntilExit()
        }
        let centralLog = directory.appending("central/audit.log")
        try #require(eventually { ((try? String(contentsOfFile: centralLog, encoding: .utf8)) ?? "").contains("DAEMON_START") },
                     "the central auditd did not start (exit status \(central.isRunning ? "none" : "\(central.terminationStatus)"))")

        // Debian's own au-remote.conf, set active.
        let plugins = directory.appending("plugins.d")
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        let debian = try String(contentsOfFile: "/etc/audit/plugins.d/au-remote.conf", encoding: .utf8)
        let conf = try directory.write(debian.replacingOccurrences(of: "active = no", with: "active = yes"), to: "plugins.d/au-remote.conf")
        chmod(conf, 0o640)

        let events = 200
        let shipped = { ((try? String(contentsOfFile: centralLog, encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { $0.hasPrefix("node=client-host type=SYSCALL ") && $0.contains("au-remote") } }
        try AudispRemote.withConfiguration(server: "127.0.0.1", port: port) {
            try directory.write("log_file = \(directory.appending("log/audit.log"))\nlog_format = RAW\nnum_logs = 5\n"
                                + "name_format = user\nname = client-host\nplugin_dir = \(plugins)\n", to: "auditd.conf")
            var behaviour = FakeKernel.Behaviour()
            behaviour.signalInfo = SignalInfo(uid: 0, pid: getpid())
            let daemon = try DaemonProcess(directory: directory, kernel: try FakeKernel(behaviour))
            try #require(daemon.fakeKernel!.wait { $0.isRegistered }, "diagnostics: \(daemon.diagnostics)")
            for serial in 1...events {
                // A whole SYSCALL record as the kernel writes one, so ausearch's parsers take it.
                try daemon.fakeKernel!.emit(.syscall, "audit(1700000005.000:\(serial)): arch=c000003e syscall=110 success=yes exit=1 "
                    + "a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=\(serial) auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
                    + "sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"probe\" exe=\"/usr/bin/probe\" key=\"au-remote\"")
                try daemon.fakeKernel!.emit(.endOfEvent, "audit(1700000005.000:\(serial)): ")
                if serial == events / 2 {
                    // Once the first half is at the server (audisp-remote's own memory is lost with
                    // it), the plugin is killed: restarted, and it gets every later record.
                    #expect(eventually(timeout: .seconds(30)) { shipped().count == events / 2 })
                    let pid = daemon.diagnostics.firstMatch(of: /au-remote\.conf started: .* \(pid (\d+)\)/).flatMap { Int32($0.1) }
                    if let pid { kill(pid, SIGKILL) }
                    #expect(pid != nil, "the plugin's start was not reported: \(daemon.diagnostics.suffix(800))")
                    #expect(eventually { daemon.diagnostics.contains("was restarted") })
                }
            }
            #expect(eventually(timeout: .seconds(30)) { shipped().count >= events }, "the central server got \(shipped().count) of \(events)")
            #expect(daemon.terminate() == 0)
            let ours = daemon.lines().filter { $0.hasPrefix("node=client-host type=SYSCALL ") && $0.contains("au-remote") }
            #expect(Set(shipped().map(String.init)) == Set(ours), "the central server has the client's lines as its log has them")
            let found = try shell("/usr/sbin/ausearch", ["--node", "client-host", "-k", "au-remote", "-if", centralLog, "-r"])
            let foundEvents = found.output.split(separator: "\n").filter { $0.contains("type=SYSCALL") }.count
            print("audisp-remote as a plugin (killed once and restarted): \(events) events made, \(shipped().count) SYSCALL records in the central auditd's log, ausearch --node client-host found \(foundEvents)")
            #expect(foundEvents == events)
        }
    }
}
