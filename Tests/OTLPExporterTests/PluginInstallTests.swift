import AuditTestKit
import Foundation
import Testing
@testable import OTLPExporter

/// `make install-files` into a staging root: the plugin beside a disabled plugins.d file in
/// auditd's syntax, and a configuration the plugin itself accepts.
@Suite(.timeLimit(.minutes(1)))
struct PluginInstallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func installPutsThePluginBesideADisabledPluginsDFileAndKeepsAnAdministratorsFiles() throws {
        try Requirement.check(PluginProcess.unmetRequirement)
        let stage = try TemporaryDirectory("otlp-stage")
        defer { stage.remove() }
        let make = { try shell("/usr/bin/make", ["-s", "-C", Self.root, "install-files", "DESTDIR=\(stage.path)",
                                                  "BINARY=\(builtDaemonPath())"]) }
        let first = try make()
        try #require(first.status == 0, "\(first.output)")
        #expect(FileManager.default.isExecutableFile(atPath: stage.appending("usr/sbin/swift-auditd-otlp")))
        let plugin = try String(contentsOfFile: stage.appending("etc/audit/plugins.d/swift-auditd-otlp.conf"), encoding: .utf8)
        let settings = plugin.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(settings == ["active = no", "direction = out", "path = /usr/sbin/swift-auditd-otlp", "type = always",
                             "args = /etc/audit/swift-auditd-otlp.conf", "format = string"])
        let configuration = try ExporterConfigurationParser(path: "swift-auditd-otlp.conf")
            .parse(fileAt: stage.appending("etc/audit/swift-auditd-otlp.conf"))
        #expect(configuration.endpoint == "http://127.0.0.1:4318/v1/logs")
        #expect(configuration == {
            var defaults = ExporterConfiguration()
            defaults.endpoint = configuration.endpoint
            defaults.queueDirectory = "/var/lib/swift-auditd-otlp"
            return defaults
        }(), "the shipped file states the defaults")

        let active = stage.appending("etc/audit/plugins.d/swift-auditd-otlp.conf")
        try plugin.replacingOccurrences(of: "active = no", with: "active = yes").write(toFile: active, atomically: false, encoding: .utf8)
        let second = try make()
        #expect(second.status == 0)
        #expect(try String(contentsOfFile: active, encoding: .utf8).contains("active = yes"))
    }
}
