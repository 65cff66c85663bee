import AuditDaemon
import AuditDispatch
import Testing

/// The Prometheus text exposition of the state report: the golden text below is what
/// `swift-auditd status --format prometheus` and the node_exporter textfile hold for this report,
/// byte for byte (`promtool check metrics` accepts it: SwiftAuditdTests/MetricsTests).
@Suite struct PrometheusExpositionTests {
    func sample() -> DaemonStateReport {
        var report = DaemonStateReport()
        report.pid = 4242
        report.startedAt = 1_699_999_000
        report.logSize = 10 * 1024 + 5
        report.rotations = 2
        report.bytesWritten = 123_456
        report.freeSpaceBytes = 1_073_741_824
        report.recordsReceived = 100
        report.recordsReceivedByType = ["SYSCALL": 60, "PATH": 37, "other": 3]
        report.recordsWritten = 96
        report.daemonRecordsWritten = 2
        report.heldRecordsCollected = 37
        report.losses.notLogged = 6
        report.losses.malformed = 1
        report.losses.socketOverruns = 4
        report.kernelLostAtRegistration = 5
        report.kernelLost = 9
        report.kernelBacklog = 3
        report.kernelBacklogLimit = 8192
        report.writeLatency.counts[0] = 5  // ≤ 100 µs
        report.writeLatency.counts[6] = 2  // ≤ 10 ms
        report.writeLatency.counts[15] = 1  // above 10 s
        report.writeLatency.sumNanoseconds = 12_000_500_000
        report.plugins = [PluginStatus(name: "syslog \"a\"", path: "/sbin/audisp-syslog", pid: 77, state: .running,
                                       queued: 4, dropped: 1, restarts: 2, readers: 0, format: .string)]
        report.remoteListening = true
        report.remoteClients = ["::ffff:192.0.2.7:61000 records=5 replies=5 pending=0 connected=3s"]
        report.remoteRecordsByAddress = ["::ffff:192.0.2.7": 12, "::ffff:192.0.2.9": 0]
        return report
    }

    static let golden = """
        # HELP swift_auditd_up 1 when a swift-auditd state report was read, 0 when none is running.
        # TYPE swift_auditd_up gauge
        swift_auditd_up 1
        # HELP swift_auditd_kernel_backlog Records waiting in the kernel's audit queue (AUDIT_GET).
        # TYPE swift_auditd_kernel_backlog gauge
        swift_auditd_kernel_backlog 3
        # HELP swift_auditd_kernel_backlog_limit The kernel's backlog_limit (AUDIT_GET).
        # TYPE swift_auditd_kernel_backlog_limit gauge
        swift_auditd_kernel_backlog_limit 8192
        # HELP swift_auditd_start_time_seconds When the daemon started, in seconds since the epoch.
        # TYPE swift_auditd_start_time_seconds gauge
        swift_auditd_start_time_seconds 1699999000
        # HELP swift_auditd_records_received_total Records received from the kernel, by message type.
        # TYPE swift_auditd_records_received_total counter
        swift_auditd_records_received_total{type="PATH"} 37
        swift_auditd_records_received_total{type="SYSCALL"} 60
        swift_auditd_records_received_total{type="other"} 3
        # HELP swift_auditd_records_written_total Lines written to the log: the kernel's records and the daemon's own.
        # TYPE swift_auditd_records_written_total counter
        swift_auditd_records_written_total 96
        # HELP swift_auditd_daemon_records_written_total The daemon's own DAEMON_* records written.
        # TYPE swift_auditd_daemon_records_written_total counter
        swift_auditd_daemon_records_written_total 2
        # HELP swift_auditd_records_lost_total Records lost, by cause: kernel (the kernel's lost counter since registration), socket_overrun (ENOBUFS reports), refused_sender and malformed (datagrams refused), not_logged (logging suspended or write_logs = no), disk_refused.
        # TYPE swift_auditd_records_lost_total counter
        swift_auditd_records_lost_total{cause="kernel"} 4
        swift_auditd_records_lost_total{cause="socket_overrun"} 4
        swift_auditd_records_lost_total{cause="refused_sender"} 0
        swift_auditd_records_lost_total{cause="malformed"} 1
        swift_auditd_records_lost_total{cause="not_logged"} 6
        swift_auditd_records_lost_total{cause="disk_refused"} 0
        # HELP swift_auditd_records_truncated_total Records longer than a receive slot, written cut short.
        # TYPE swift_auditd_records_truncated_total counter
        swift_auditd_records_truncated_total 0
        # HELP swift_auditd_held_backlog_records Records the kernel held before registration and delivered.
        # TYPE swift_auditd_held_backlog_records gauge
        swift_auditd_held_backlog_records 37
        # HELP swift_auditd_write_latency_seconds Time from a batch's first record received to its write completing.
        # TYPE swift_auditd_write_latency_seconds histogram
        swift_auditd_write_latency_seconds_bucket{le="0.0001"} 5
        swift_auditd_write_latency_seconds_bucket{le="0.00025"} 5
        swift_auditd_write_latency_seconds_bucket{le="0.0005"} 5
        swift_auditd_write_latency_seconds_bucket{le="0.001"} 5
        swift_auditd_write_latency_seconds_bucket{le="0.0025"} 5
        swift_auditd_write_latency_seconds_bucket{le="0.005"} 5
        swift_auditd_write_latency_seconds_bucket{le="0.01"} 7
        swift_auditd_write_latency_seconds_bucket{le="0.025"} 7
        swift_auditd_write_latency_seconds_bucket{le="0.05"} 7
        swift_auditd_write_latency_seconds_bucket{le="0.1"} 7
        swift_auditd_write_latency_seconds_bucket{le="0.25"} 7
        swift_auditd_write_latency_seconds_bucket{le="0.5"} 7
        swift_auditd_write_latency_seconds_bucket{le="1"} 7
        swift_auditd_write_latency_seconds_bucket{le="2.5"} 7
        swift_auditd_write_latency_seconds_bucket{le="10"} 7
        swift_auditd_write_latency_seconds_bucket{le="+Inf"} 8
        swift_auditd_write_latency_seconds_sum 12.0005
        swift_auditd_write_latency_seconds_count 8
        # HELP swift_auditd_written_bytes_total Bytes written to the log files, across rotations.
        # TYPE swift_auditd_written_bytes_total counter
        swift_auditd_written_bytes_total 123456
        # HELP swift_auditd_rotations_total Log rotations by this daemon.
        # TYPE swift_auditd_rotations_total counter
        swift_auditd_rotations_total 2
        # HELP swift_auditd_log_size_bytes The size of the live log file.
        # TYPE swift_auditd_log_size_bytes gauge
        swift_auditd_log_size_bytes 10245
        # HELP swift_auditd_disk_free_bytes Free space on the log's file system (f_bavail).
        # TYPE swift_auditd_disk_free_bytes gauge
        swift_auditd_disk_free_bytes 1073741824
        # HELP swift_auditd_logging_suspended 1 while logging is suspended by a disk or size action.
        # TYPE swift_auditd_logging_suspended gauge
        swift_auditd_logging_suspended 0
        # HELP swift_auditd_plugin_queued Records waiting in a plugin's queue.
        # TYPE swift_auditd_plugin_queued gauge
        swift_auditd_plugin_queued{plugin="syslog \\"a\\""} 4
        # HELP swift_auditd_plugin_dropped_total Records a plugin's full queue dropped.
        # TYPE swift_auditd_plugin_dropped_total counter
        swift_auditd_plugin_dropped_total{plugin="syslog \\"a\\""} 1
        # HELP swift_auditd_plugin_restarts_total Times a plugin was restarted.
        # TYPE swift_auditd_plugin_restarts_total counter
        swift_auditd_plugin_restarts_total{plugin="syslog \\"a\\""} 2
        # HELP swift_auditd_remote_clients_connected audisp-remote clients connected to the listener.
        # TYPE swift_auditd_remote_clients_connected gauge
        swift_auditd_remote_clients_connected 1
        # HELP swift_auditd_remote_records_received_total Records received from remote clients, by client address, reconnections included.
        # TYPE swift_auditd_remote_records_received_total counter
        swift_auditd_remote_records_received_total{address="::ffff:192.0.2.7"} 12
        swift_auditd_remote_records_received_total{address="::ffff:192.0.2.9"} 0

        """

    @Test func rendersEverySeriesWithHelpAndType() {
        let text = PrometheusExposition.render(sample())
        #expect(text == Self.golden)
        if text != Self.golden {
            for (line, expected) in zip(text.split(separator: "\n"), Self.golden.split(separator: "\n")) where line != expected {
                Issue.record("first difference:\n  got      \(line)\n  expected \(expected)")
                break
            }
        }
    }

    @Test func theKernelsOwnAnswerTakesPrecedenceOverTheReports() {
        let text = PrometheusExposition.render(sample(), kernel: .init(backlog: 7, backlogLimit: 64, lost: 15))
        #expect(text.contains("\nswift_auditd_kernel_backlog 7\n"))
        #expect(text.contains("\nswift_auditd_kernel_backlog_limit 64\n"))
        #expect(text.contains("\nswift_auditd_records_lost_total{cause=\"kernel\"} 10\n"))
    }

    @Test func withoutADaemonOnlyUpAndTheKernelsGauges() {
        let text = PrometheusExposition.render(nil, kernel: .init(backlog: 0, backlogLimit: 8192, lost: 2))
        #expect(text == """
            # HELP swift_auditd_up 1 when a swift-auditd state report was read, 0 when none is running.
            # TYPE swift_auditd_up gauge
            swift_auditd_up 0
            # HELP swift_auditd_kernel_backlog Records waiting in the kernel's audit queue (AUDIT_GET).
            # TYPE swift_auditd_kernel_backlog gauge
            swift_auditd_kernel_backlog 0
            # HELP swift_auditd_kernel_backlog_limit The kernel's backlog_limit (AUDIT_GET).
            # TYPE swift_auditd_kernel_backlog_limit gauge
            swift_auditd_kernel_backlog_limit 8192

            """)
    }

    @Test func unknownFiguresAreLeftOutRatherThanWrittenAsZero() {
        var report = sample()
        report.kernelLost = nil
        report.heldRecordsCollected = nil
        report.freeSpaceBytes = nil
        report.kernelBacklog = nil
        let text = PrometheusExposition.render(report)
        #expect(!text.contains("cause=\"kernel\""))
        #expect(!text.contains("swift_auditd_held_backlog_records"))
        #expect(!text.contains("swift_auditd_disk_free_bytes"))
        #expect(!text.contains("swift_auditd_kernel_backlog "))
    }

    @Test func theMetricsFieldsSurviveTheStateFile() {
        let report = sample()
        #expect(DaemonStateReport(parsing: report.rendered()) == report)
    }
}
