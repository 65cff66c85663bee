import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// The plugin as swift-auditd runs it: the built daemon on a fake kernel, with a plugin_dir whose
/// swift-auditd-otlp.conf names the built plugin; the kernel's events and the daemon's own records
/// reach the receiver, and the plugin sends what it has when the daemon stops.
@Suite(.serialized) struct SwiftAuditdPluginTests {
    @Test(.timeLimit(.minutes(2)))
    func underSwiftAuditdOnAFakeKernelEveryEventArrives() throws {
        try Requirement.check(Requirement.root.map { "\($0): plugin files and programs must be owned by root" })
        try Requirement.check(Requirement.daemonBinary())
        let setup = try PluginProcessTests.Setup()
        let plugins = setup.directory.appending("plugins.d")
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        let plugin = try setup.directory.write("""
            active = yes
            direction = out
            path = \(PluginProcess.executablePath)
            type = always
            args = \(setup.configuration)
            format = string

            """, to: "plugins.d/swift-auditd-otlp.conf")
        chmod(plugin, 0o640)
        var behaviour = FakeKernel.Behaviour()
        behaviour.signalInfo = SignalInfo(uid: 0, pid: getpid())
        let kernel = try FakeKernel(behaviour)
        let daemonDirectory = try TemporaryDirectory("swift-auditd-otlp-daemon")
        try daemonDirectory.write(AuditdConf(in: daemonDirectory, extra: "plugin_dir = \(plugins)\n").text, to: "auditd.conf")
        let daemon = try DaemonProcess(directory: daemonDirectory, kernel: kernel, removesDirectory: true)
        try #require(kernel.wait { $0.isRegistered && $0.status.pid == UInt32(daemon.pid) }, "\(daemon.diagnostics)")

        let events = 50
        var stamps: Set<String> = []
        for serial in 1...events {
            let stamp = "1700000001.\(String(format: "%03d", serial)):\(serial)"
            stamps.insert(stamp)
            try kernel.emit(.syscall, "audit(\(stamp)): arch=c000003e syscall=59 success=yes exit=0 pid=\(1000 + serial) auid=1000 uid=0 comm=\"true\" exe=\"/usr/bin/true\" key=\"otlp\"")
            try kernel.emit(AuditMessageType(1327), "audit(\(stamp)): proctitle=74727565")
            try kernel.emit(.endOfEvent, "audit(\(stamp)): ")
        }
        #expect(eventually(timeout: .seconds(30)) { Set(setup.receiver.stamps()).isSuperset(of: stamps) },
                "daemon: \(daemon.diagnostics)")
        #expect(daemon.terminate() == 0)
        // DAEMON_END is the last line the plugin gets before end of input; it sends it before it exits.
        #expect(eventually(timeout: .seconds(30)) {
            setup.receiver.records().contains { ($0["attributes"] as? [String: Any])?["audit.type"] as? String == "DAEMON_END" }
        })
        let ours = setup.receiver.records().filter { stamps.contains((($0["attributes"] as? [String: Any])?["audit.stamp"] as? String) ?? "") }
        #expect(ours.count == events)
        #expect(ours.allSatisfy { ($0["attributes"] as? [String: Any])?["audit.key"] as? String == "otlp" })
        #expect(ours.allSatisfy { ($0["body"] as? String)?.split(separator: "\n").count == 2 })
        #expect(setup.receiver.records().contains { ($0["attributes"] as? [String: Any])?["audit.type"] as? String == "DAEMON_START" })
    }
}
