import AuditDaemon
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What `swift-auditd status` prints: the kernel's view (`AUDIT_GET`, what `auditctl -s` shows)
/// and the daemon's (its state report).
public enum StatusText {
    /// The registered daemon as the status names it.
    public struct Daemon: Sendable {
        public var pid: Int32
        public var description: String
        public var isSwiftAuditd: Bool
        public init(pid: Int32, description: String, isSwiftAuditd: Bool) {
            self.pid = pid
            self.description = description
            self.isSwiftAuditd = isSwiftAuditd
        }
    }

    /// `networkServer`: a swift-auditd named by the run directory's PID file that is not the
    /// registered daemon (a central server with `local_events = no`); its report is shown instead.
    public static func render(kernel: AuditStatus, daemon: Daemon?, report: DaemonStateReport?,
                              stateFile: String, now: Int, networkServer: Daemon? = nil) -> String {
        var lines = ["Kernel (AUDIT_GET)"]
        func row(_ name: String, _ value: String) { lines.append("  " + (name + ":").padding(20) + value) }
        row("enabled", "\(kernel.enabled) (\(enabledMeaning(kernel.enabled)))")
        row("failure", "\(kernel.failure) (\(failureMeaning(kernel.failure)))")
        if let daemon {
            row("audit daemon", daemon.description + (daemon.isSwiftAuditd ? "" : ", not a swift-auditd"))
        } else {
            row("audit daemon", "none registered")
        }
        row("backlog", "\(kernel.backlog) of limit \(kernel.backlogLimit)")
        row("lost", "\(kernel.lost)")
        row("rate limit", kernel.rateLimit == 0 ? "0 (none)" : "\(kernel.rateLimit) records/s")
        row("backlog wait time", "\(kernel.backlogWaitTime) (actual \(kernel.backlogWaitTimeActual))")

        lines.append("")
        guard let daemon = networkServer ?? daemon, daemon.isSwiftAuditd else {
            lines.append(daemon == nil ? "swift-auditd: not running (no audit daemon is registered with the kernel)"
                                       : "swift-auditd: not the registered daemon")
            return lines.joined(separator: "\n") + "\n"
        }
        guard let report, report.pid == daemon.pid else {
            lines.append("swift-auditd (pid \(daemon.pid)): no state report at \(stateFile)")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("swift-auditd \(report.version) (pid \(report.pid), \(report.mode), running since "
            + "\(timestamp(report.startedAt)); report \(max(0, now - report.time)) s old)")
        row("log file", "\(report.logFile), \(bytes(report.logSize)) (\(report.logFormat))")
        if let suspension = report.suspension {
            row("logging", "SUSPENDED: \(suspension)")
        } else if !report.writingToLogs {
            row("logging", "off (write_logs = no)")
        }
        var disk = report.freeSpaceMiB.map { "\($0) MiB free" } ?? "free space unknown"
        disk += "; space_left \(report.spaceLeftMiB) MiB, admin_space_left \(report.adminSpaceLeftMiB) MiB"
        if report.maxLogSizeKiB > 0 { disk += "; max_log_file \(report.maxLogSizeKiB / 1024) MiB" }
        let flags = [
            (!report.spaceLeftOnPartition, "DISK FULL"),
            (report.spaceLeftActionPerformed, "space_left action taken"),
            (report.adminSpaceLeftActionPerformed, "admin_space_left action taken"),
            (report.diskErrorDetected, "disk error detected"),
        ].filter(\.0).map(\.1)
        if !flags.isEmpty { disk += "; " + flags.joined(separator: ", ") }
        row("disk", disk)
        var rotation = "\(report.rotatedFiles)"
        if let last = report.lastRotation {
            rotation += "; last rotation \(timestamp(last))"
            if let reason = report.lastRotationReason { rotation += " (\(reason))" }
        } else {
            rotation += "; not rotated since start"
        }
        row("rotated files", rotation)
        row("records received", "\(report.recordsReceived)")
        row("records written", "\(report.recordsWritten) (\(report.recordsWritten &- report.daemonRecordsWritten) "
            + "\(report.mode == "network only" ? "from clients" : "from the kernel"), \(report.daemonRecordsWritten) of its own)")
        row("held backlog", report.heldRecordsCollected.map { "\($0) records collected at registration" } ?? "not yet known")
        row("losses", losses(report))
        if let lost = report.kernelLostWhileRunning {
            row("kernel lost", "\(lost) since registration")
        }
        row("priority", "nice \(report.priority)")
        row("plugins", report.plugins.isEmpty ? "none" : "\(report.plugins.count) (q_depth \(report.pluginQueueDepth) each)")
        for plugin in report.plugins { lines.append("  \(plugin.summary)") }
        if report.mode == "network only" || !report.remoteClients.isEmpty {
            row("remote clients", "\(report.remoteClients.count) connected")
            for client in report.remoteClients { lines.append("  \(client)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func losses(_ report: DaemonStateReport) -> String {
        let counts: [(String, UInt64)] = [
            ("refused by the disk", report.losses.diskRefused),
            ("not logged while suspended", report.losses.notLogged),
            ("socket overruns (ENOBUFS)", report.losses.socketOverruns),
            ("datagrams from other senders", report.losses.refusedSenders),
            ("malformed datagrams", report.losses.malformed),
            ("records cut short", report.losses.truncated),
        ]
        let nonZero = counts.filter { $0.1 > 0 }
        if nonZero.isEmpty { return "none" }
        return nonZero.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }

    static func enabledMeaning(_ value: UInt32) -> String {
        switch value {
        case 0: "off"
        case 1: "on"
        case 2: "on, locked until reboot"
        default: "unknown"
        }
    }

    static func failureMeaning(_ value: UInt32) -> String {
        switch value {
        case 0: "silent"
        case 1: "printk"
        case 2: "panic"
        default: "unknown"
        }
    }

    static func bytes(_ count: UInt64) -> String {
        if count < 1024 { return "\(count) bytes" }
        if count < 1024 * 1024 { return "\(count / 1024) KiB (\(count) bytes)" }
        return "\(count / (1024 * 1024)) MiB (\(count) bytes)"
    }

    /// Local time, `YYYY-MM-DD HH:MM:SS`.
    static func timestamp(_ seconds: Int) -> String {
        var value = time_t(seconds)
        var parts = tm()
        localtime_r(&value, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
