/// The daemon's state report in Prometheus' text exposition format (version 0.0.4): what
/// `swift-auditd status --format prometheus` prints and what the daemon writes for
/// node_exporter's textfile collector.
///
/// Names follow Prometheus' conventions: the `swift_auditd_` prefix, `_total` on counters, base
/// units (bytes, seconds). A series whose value is not known (the kernel's counters in shadow
/// mode, the held backlog before it is counted) is left out rather than written as 0.
public enum PrometheusExposition {
    /// What `AUDIT_GET` said, when the caller asked the kernel itself (the status command does);
    /// otherwise the report's own copy is used.
    public struct KernelGauges: Sendable, Equatable {
        public var backlog: UInt32
        public var backlogLimit: UInt32
        public var lost: UInt32
        public init(backlog: UInt32, backlogLimit: UInt32, lost: UInt32) {
            self.backlog = backlog
            self.backlogLimit = backlogLimit
            self.lost = lost
        }
    }

    /// The exposition of `report`, or only `swift_auditd_up 0` and the kernel's gauges when no
    /// swift-auditd report is at hand.
    public static func render(_ report: DaemonStateReport?, kernel: KernelGauges? = nil) -> String {
        var text = MetricsText()
        text.gauge("swift_auditd_up", "1 when a swift-auditd state report was read, 0 when none is running.",
                   report == nil ? 0 : 1)
        let backlog = kernel?.backlog ?? report?.kernelBacklog
        let limit = kernel?.backlogLimit ?? report?.kernelBacklogLimit
        if let backlog { text.gauge("swift_auditd_kernel_backlog", "Records waiting in the kernel's audit queue (AUDIT_GET).", backlog) }
        if let limit { text.gauge("swift_auditd_kernel_backlog_limit", "The kernel's backlog_limit (AUDIT_GET).", limit) }
        guard var report else { return text.output }
        if let lost = kernel?.lost { report.kernelLost = lost }

        text.gauge("swift_auditd_start_time_seconds", "When the daemon started, in seconds since the epoch.", report.startedAt)
        text.family("swift_auditd_records_received_total", "counter", "Records received from the kernel, by message type.")
        for (type, count) in report.recordsReceivedByType.sorted(by: { $0.key < $1.key }) {
            text.sample("swift_auditd_records_received_total", labels: [("type", type)], count)
        }
        text.counter("swift_auditd_records_written_total", "Lines written to the log: the kernel's records and the daemon's own.",
                     report.recordsWritten)
        text.counter("swift_auditd_daemon_records_written_total", "The daemon's own DAEMON_* records written.",
                     report.daemonRecordsWritten)
        text.family("swift_auditd_records_lost_total", "counter",
                    "Records lost, by cause: kernel (the kernel's lost counter since registration), socket_overrun "
                    + "(ENOBUFS reports), refused_sender and malformed (datagrams refused), not_logged (logging "
                    + "suspended or write_logs = no), disk_refused.")
        var causes: [(String, UInt64)] = []
        if let kernelLost = report.kernelLostWhileRunning { causes.append(("kernel", UInt64(kernelLost))) }
        causes += [
            ("socket_overrun", report.losses.socketOverruns), ("refused_sender", report.losses.refusedSenders),
            ("malformed", report.losses.malformed), ("not_logged", report.losses.notLogged),
            ("disk_refused", report.losses.diskRefused),
        ]
        for (cause, count) in causes { text.sample("swift_auditd_records_lost_total", labels: [("cause", cause)], count) }
        text.counter("swift_auditd_records_truncated_total", "Records longer than a receive slot, written cut short.",
                     report.losses.truncated)
        if let held = report.heldRecordsCollected {
            text.gauge("swift_auditd_held_backlog_records", "Records the kernel held before registration and delivered.", held)
        }
        histogram(report.writeLatency, into: &text)
        text.counter("swift_auditd_written_bytes_total", "Bytes written to the log files, across rotations.", report.bytesWritten)
        text.counter("swift_auditd_rotations_total", "Log rotations by this daemon.", report.rotations)
        text.gauge("swift_auditd_log_size_bytes", "The size of the live log file.", report.logSize)
        if let free = report.freeSpaceBytes {
            text.gauge("swift_auditd_disk_free_bytes", "Free space on the log's file system (f_bavail).", free)
        }
        text.gauge("swift_auditd_logging_suspended", "1 while logging is suspended by a disk or size action.",
                   report.suspension == nil ? 0 : 1)
        if !report.plugins.isEmpty {
            text.family("swift_auditd_plugin_queued", "gauge", "Records waiting in a plugin's queue.")
            for plugin in report.plugins { text.sample("swift_auditd_plugin_queued", labels: [("plugin", plugin.name)], plugin.queued) }
            text.family("swift_auditd_plugin_dropped_total", "counter", "Records a plugin's full queue dropped.")
            for plugin in report.plugins { text.sample("swift_auditd_plugin_dropped_total", labels: [("plugin", plugin.name)], plugin.dropped) }
            text.family("swift_auditd_plugin_restarts_total", "counter", "Times a plugin was restarted.")
            for plugin in report.plugins { text.sample("swift_auditd_plugin_restarts_total", labels: [("plugin", plugin.name)], plugin.restarts) }
        }
        if report.remoteListening {
            text.gauge("swift_auditd_remote_clients_connected", "audisp-remote clients connected to the listener.",
                       report.remoteClients.count)
            text.family("swift_auditd_remote_records_received_total", "counter",
                        "Records received from remote clients, by client address, reconnections included.")
            for (address, count) in report.remoteRecordsByAddress.sorted(by: { $0.key < $1.key }) {
                text.sample("swift_auditd_remote_records_received_total", labels: [("address", address)], count)
            }
        }
        return text.output
    }

    static func histogram(_ latency: WriteLatencyHistogram, into text: inout MetricsText) {
        let name = "swift_auditd_write_latency_seconds"
        text.family(name, "histogram", "Time from a batch's first record received to its write completing.")
        var cumulative: UInt64 = 0
        for (slot, bound) in WriteLatencyHistogram.boundsNanoseconds.enumerated() {
            cumulative += latency.counts[slot]
            text.sample(name + "_bucket", labels: [("le", seconds(bound))], cumulative)
        }
        cumulative += latency.counts[latency.counts.count - 1]
        text.sample(name + "_bucket", labels: [("le", "+Inf")], cumulative)
        text.line(name + "_sum", labels: [], seconds(Int64(clamping: latency.sumNanoseconds)))
        text.sample(name + "_count", labels: [], cumulative)
    }

    /// Nanoseconds as decimal seconds without a trailing zero: `0.0001`, `2.5`, `10`.
    static func seconds(_ nanoseconds: Int64) -> String {
        let whole = nanoseconds / 1_000_000_000
        var fraction = String(nanoseconds % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}

/// The exposition's lines: `# HELP`, `# TYPE`, then samples, with label values escaped.
struct MetricsText {
    private(set) var output = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        output += "# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) \(type)\n"
    }

    mutating func gauge<T: BinaryInteger>(_ name: String, _ help: String, _ value: T) {
        family(name, "gauge", help)
        sample(name, labels: [], value)
    }

    mutating func counter<T: BinaryInteger>(_ name: String, _ help: String, _ value: T) {
        family(name, "counter", help)
        sample(name, labels: [], value)
    }

    mutating func sample<T: BinaryInteger>(_ name: String, labels: [(String, String)], _ value: T) {
        line(name, labels: labels, "\(value)")
    }

    mutating func line(_ name: String, labels: [(String, String)], _ value: String) {
        output += name
        if !labels.isEmpty {
            output += "{" + labels.map { "\($0.0)=\"\(Self.escapedLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        output += " \(value)\n"
    }

    /// A label value: backslash, double quote and newline escaped, as the format requires.
    static func escapedLabel(_ value: String) -> String { escaped(value, quote: true) }

    /// HELP text: backslash and newline escaped.
    static func escapedHelp(_ text: String) -> String { escaped(text, quote: false) }

    private static func escaped(_ value: String, quote: Bool) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"" where quote: escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
