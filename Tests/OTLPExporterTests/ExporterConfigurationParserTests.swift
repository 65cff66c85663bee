import Testing
@testable import OTLPExporter

@Suite struct ExporterConfigurationParserTests {
    let parser = ExporterConfigurationParser(path: "/etc/audit/swift-auditd-otlp.conf")

    @Test func readsEveryKeywordInAuditdSyntax() throws {
        let configuration = try parser.parse("""
            # swift-auditd-otlp
            endpoint = http://127.0.0.1:4318/v1/logs
            queue_dir = /var/spool/swift-auditd-otlp

            queue_max_bytes = 1048576
            QUEUE_FULL_ACTION = DROP_NEWEST
            batch_max_events = 100
            batch_max_bytes = 65536
            batch_delay_ms = 50
            sync_interval_ms = 20
            retry_initial_ms = 100
            retry_max_seconds = 5
            request_timeout_seconds = 3
            shutdown_timeout_seconds = 2
            end_of_event_timeout = 1
            host_name = web-1
            service_name = audit
            """)
        #expect(configuration.endpoint == "http://127.0.0.1:4318/v1/logs")
        #expect(configuration.queueDirectory == "/var/spool/swift-auditd-otlp")
        #expect(configuration.queueMaxBytes == 1_048_576)
        #expect(configuration.queueFullAction == .dropNewest)
        #expect(configuration.batchMaxEvents == 100)
        #expect(configuration.batchDelay == .milliseconds(50))
        #expect(configuration.retryMaxDelay == .seconds(5))
        #expect(configuration.hostName == "web-1")
        #expect(configuration.serviceName == "audit")
    }

    @Test(arguments: [
        ("endpoint = http://h/v1/logs\nqueue_dir = /q\nbatch_size = 5\n", "/etc/audit/swift-auditd-otlp.conf:3: unknown keyword 'batch_size'"),
        ("endpoint = ftp://h/v1/logs\n", "/etc/audit/swift-auditd-otlp.conf:1: endpoint 'ftp://h/v1/logs' is not an http:// or https:// URL with a host"),
        ("endpoint=http://h/\n", "/etc/audit/swift-auditd-otlp.conf:1: 'endpoint=http://h/' is not followed by ' = ' (the form is 'keyword = value')"),
        ("queue_dir = relative\n", "/etc/audit/swift-auditd-otlp.conf:1: queue_dir 'relative' is not an absolute path"),
        ("#\nqueue_max_bytes = 12x\n", "/etc/audit/swift-auditd-otlp.conf:2: queue_max_bytes '12x' is not a number"),
        ("batch_max_events = 0\n", "/etc/audit/swift-auditd-otlp.conf:1: batch_max_events 0 is out of range (1 to 100000)"),
        ("queue_full_action = panic\n", "/etc/audit/swift-auditd-otlp.conf:1: queue_full_action 'panic' is not one of drop_oldest, drop_newest, block"),
        ("host_name = a b\n", "/etc/audit/swift-auditd-otlp.conf:1: host_name has more than one value: 'a b'"),
        ("queue_dir = /q\n", "/etc/audit/swift-auditd-otlp.conf: endpoint is required (the OTLP/HTTP logs URL)"),
        ("endpoint = http://h/v1/logs\n", "/etc/audit/swift-auditd-otlp.conf: queue_dir is required (the durable queue's directory)"),
    ])
    func refusesWhatAuditdWouldRefuseNamingTheLine(text: String, message: String) {
        #expect(throws: ExporterConfigurationError(message)) { try parser.parse(text) }
    }
}
