import AuditDaemon
import Testing

/// swift-auditd.conf: its own keys, checked as strictly as auditd.conf.
@Suite struct SwiftAuditdSettingsTests {
    @Test func readsTheTextfileAndTheInterval() throws {
        let settings = try SwiftAuditdSettings(parsing: """
            # metrics for node_exporter
            metrics_textfile = /var/lib/prometheus/node-exporter/swift_auditd.prom

              metrics_interval=15\t
            """, path: "/etc/audit/swift-auditd.conf")
        #expect(settings.metricsTextfile == "/var/lib/prometheus/node-exporter/swift_auditd.prom")
        #expect(settings.metricsInterval == 15)
        #expect(try SwiftAuditdSettings(parsing: "", path: "x") == SwiftAuditdSettings())
    }

    @Test(arguments: [
        ("metrics_file = /a.prom", "F:2: unknown key \"metrics_file\" (known: metrics_textfile, metrics_interval)"),
        ("metrics_textfile = relative.prom", "F:2: metrics_textfile must be an absolute path, not \"relative.prom\""),
        ("metrics_textfile = /a.txt", "F:2: metrics_textfile must end in .prom (node_exporter reads only those), not \"/a.txt\""),
        ("metrics_interval = 0", "F:2: metrics_interval must be whole seconds from 1 to 3600, not \"0\""),
        ("metrics_interval = 5s", "F:2: metrics_interval must be whole seconds from 1 to 3600, not \"5s\""),
        ("metrics_interval =", "F:2: metrics_interval has no value"),
        ("metrics_interval", "F:2: expected 'key = value', found \"metrics_interval\""),
    ])
    func refusesWhatItDoesNotKnowWithFileAndLine(line: String, message: String) {
        #expect {
            _ = try SwiftAuditdSettings(parsing: "# first\n\(line)\n", path: "F")
        } throws: { error in
            let failure = error as? AuditDaemonError
            return failure?.code == .configuration && failure?.description == message
        }
    }
}
