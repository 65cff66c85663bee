import AuditSystem
import AuditLog
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The log files as auditd.conf describes them: the writer made from the configuration, what it
/// reports, and what a reload changes.
extension AuditDaemon {
    /// Opens the log as auditd does at start (permissions, size check, excess logs, free space).
    /// With `write_logs = no` nothing is opened and records are only counted.
    func openLog() throws(AuditDaemonError) -> AuditLogWriter {
        let nodeName = try NodeName.resolve(configuration.nameFormat, name: configuration.name)
        let logger = self.logger
        do {
            let writer = try AuditLogWriter(
                settings: configuration.logSettings, format: configuration.logFormat,
                formatter: RecordFormatter(nodeName: nodeName), enricher: enricher, systemActions: systemActions,
                onEvent: { Self.report($0, to: logger) })
            if !configuration.writeLogs {
                logger.notice("write_logs = no: records are received and counted, and no log file is written")
            }
            return writer
        } catch {
            throw AuditDaemonError(.startFailure, "cannot open the audit log", cause: error)
        }
    }

    /// A writer's event as a diagnostic line, at the level auditd's `audit_msg` would use.
    static func report(_ event: LogFileEvent, to logger: Logger) {
        let level: Logger.Level
        switch event.severity {
        case .info: level = .info
        case .notice: level = .notice
        case .warning: level = .warning
        case .error: level = .error
        case .critical: level = .critical
        }
        logger.log(level: event.kind == .diskRecovered ? .info : level, "\(event.message)")
    }

    /// Applies a reloaded configuration as auditd's SIGHUP does (src/auditd-reconfigure.c), least
    /// invasive first: `priority_boost`, `log_format`, `name_format`/`name`, then the log file
    /// (`write_logs`, `log_group`, `flush`, `log_file` reopen it; `freq`, `num_logs` and
    /// `disk_error_action` take effect at once), `max_log_file*` (a size check), and the disk-space
    /// marks and actions (flags cleared, excess logs removed, a space check). Not reloaded, as in
    /// auditd: `local_events`, `end_of_event_timeout`, TLS and email settings; the listener takes
    /// its new limits without dropping a client (`reloadListener`), its port and transport at a restart.
    func apply(_ new: AuditdConfiguration) {
        let old = configuration
        var applied = new
        applied.localEvents = old.localEvents
        applied.endOfEventTimeout = old.endOfEventTimeout
        applied.verifyEmail = old.verifyEmail
        configuration = applied
        if old.priorityBoost != new.priorityBoost {
            let base = ProcessTuning.currentNice() + old.priorityBoost
            if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, base - new.priorityBoost) != 0 {
                logger.warning("cannot change the daemon's priority to priority_boost \(new.priorityBoost): \(Errno(errno).description)")
            }
        }
        let writer = loop.writer
        if old.logFormat != new.logFormat { writer.setFormat(new.logFormat, enricher: enricher) }
        if old.nameFormat != new.nameFormat || old.name != new.name {
            do {
                writer.formatter = RecordFormatter(nodeName: try NodeName.resolve(new.nameFormat, name: new.name))
            } catch {
                logger.error("keeping the node name in use: \(error)")
                configuration.nameFormat = old.nameFormat
                configuration.name = old.name
            }
        }
        writer.apply(applied.logSettings)
        // plugin_dir read again, plugins started, stopped, restarted or sent SIGHUP (auditd's reconfigure).
        loop.dispatcher.reload(configuration.dispatcherSettings)
        reloadListener(new.remote)
    }
}

/// The `node=` name auditd's `resolve_node` (src/auditd-config.c) gives each line.
enum NodeName {
    static func resolve(_ format: NodeNameFormat, name: String?) throws(AuditDaemonError) -> String? {
        switch format {
        case .none:
            return nil
        case .user:
            guard let name else { throw AuditDaemonError(.configuration, "User defined name missing (name_format = user needs name = ...)") }
            return name
        case .hostname:
            // A space would split the field for ausearch.
            return String(try hostname().map { $0 == " " ? "_" : $0 })
        case .fqd:
            let host = try hostname()
            return try lookUp(host, flags: AI_ADDRCONFIG | AI_CANONNAME) { info in
                info.pointee.ai_canonname.map { String(cString: $0) }
            }
        case .numeric:
            let host = try hostname()
            return try lookUp(host, flags: AI_ADDRCONFIG | AI_PASSIVE) { info in
                numericAddress(info.pointee)
            }
        }
    }

    static func hostname() throws(AuditDaemonError) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else {
            throw AuditDaemonError(.startFailure, "Unable to get machine name")
        }
        return String(cString: buffer)
    }

    private static func lookUp(_ host: String, flags: Int32,
                               _ pick: (UnsafeMutablePointer<addrinfo>) -> String?) throws(AuditDaemonError) -> String {
        var hints = addrinfo()
        hints.ai_flags = flags
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &result)
        guard code == 0, let first = result else {
            throw AuditDaemonError(.startFailure, "Cannot resolve hostname \(host) (\(String(cString: gai_strerror(code))))")
        }
        defer { freeaddrinfo(result) }
        guard let name = pick(first) else {
            throw AuditDaemonError(.startFailure, "Cannot resolve hostname \(host)")
        }
        return name
    }

    private static func numericAddress(_ info: addrinfo) -> String? {
        guard let address = info.ai_addr else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let done: UnsafePointer<CChar>?
        if info.ai_family == AF_INET {
            done = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                withUnsafePointer(to: inet.pointee.sin_addr) { inet_ntop(AF_INET, $0, &text, socklen_t(text.count)) }
            }
        } else {
            done = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                withUnsafePointer(to: inet6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &text, socklen_t(text.count)) }
            }
        }
        return done == nil ? nil : String(cString: text)
    }
}
