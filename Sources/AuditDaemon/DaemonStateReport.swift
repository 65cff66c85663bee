import AuditDispatch
#if canImport(Glibc)
import Glibc
#endif

/// What the daemon says about itself in its state file: what auditd writes to
/// `/run/audit/auditd.state` on SIGCONT (`write_audit_state_report`, src/auditd.c and
/// src/auditd-event.c), under auditd's names, then what swift-auditd knows beyond it: records
/// received and written, the held backlog collected, and every loss by its cause.
///
/// The file is `name = value` lines, one per field, so a person can read it and
/// `swift-auditd status` can parse it back. It is written at registration, on SIGCONT, after a
/// rotation, a reload or a resume, and removed when the daemon exits.
public struct DaemonStateReport: Sendable, Equatable {
    public var version: String = SwiftAuditdVersion.current
    /// Counts the reports this daemon wrote; `status` waits for it to grow after its SIGCONT.
    public var sequence: UInt64 = 0
    /// Wall-clock seconds when the report was made.
    public var time: Int = 0
    public var pid: Int32 = 0
    /// Wall-clock seconds when the daemon started.
    public var startedAt: Int = 0
    /// The nice value (auditd's "process priority").
    public var priority: Int32 = 0
    /// `registered` (the kernel's audit daemon) or `multicast` (shadow mode).
    public var mode: String = "registered"

    public var logFile: String = ""
    public var logFormat: String = ""
    /// `write_logs = yes`: the daemon keeps a log at all.
    public var writingToLogs = true
    /// Why logging is suspended, or nil.
    public var suspension: String?
    public var logSize: UInt64 = 0
    /// `audit.log.1` … present now.
    public var rotatedFiles: Int = 0
    public var rotations: UInt64 = 0
    /// `max_log_file` in KiB (0: no limit).
    public var maxLogSizeKiB: UInt64 = 0
    /// The disk: free space on the log's file system and the marks, in MiB (auditd's units).
    public var freeSpaceMiB: UInt64?
    public var spaceLeftMiB: UInt64 = 0
    public var adminSpaceLeftMiB: UInt64 = 0
    public var spaceLeftOnPartition = true
    public var spaceLeftActionPerformed = false
    public var adminSpaceLeftActionPerformed = false
    public var diskErrorDetected = false
    /// Wall-clock seconds of the last rotation by this daemon, or nil.
    public var lastRotation: Int?
    public var lastRotationReason: String?

    public var recordsReceived: UInt64 = 0
    /// Lines written: the kernel's records and the daemon's own.
    public var recordsWritten: UInt64 = 0
    public var daemonRecordsWritten: UInt64 = 0
    /// Records the kernel held before registration and delivered; nil until known.
    public var heldRecordsCollected: UInt64?
    public var losses = Losses()
    /// The kernel's `lost` counter at registration and when the report was made.
    public var kernelLostAtRegistration: UInt32?
    public var kernelLost: UInt32?
    /// The plugins the dispatcher feeds, and `q_depth`.
    public var plugins: [PluginStatus] = []
    public var pluginQueueDepth = 0
    /// A central server's connected clients, one line each: `ADDRESS:PORT records=N replies=N
    /// pending=N connected=Ns`; empty without a listener or a client.
    public var remoteClients: [String] = []
    /// Whether the daemon listens for audisp-remote clients (`tcp_listen_port`).
    public var remoteListening = false
    /// Records received from each client address since the start, closed connections included.
    public var remoteRecordsByAddress: [String: UInt64] = [:]

    // For the metrics (`swift-auditd status --format prometheus`, the node_exporter textfile).
    /// Records received by libaudit's type name (`other` for types from 3000 up); zeros left out.
    public var recordsReceivedByType: [String: UInt64] = [:]
    /// Bytes written to the log files since the start, across rotations.
    public var bytesWritten: UInt64 = 0
    /// Free space on the log's file system for an unprivileged user (`f_bavail`), in bytes.
    public var freeSpaceBytes: UInt64?
    /// The kernel's queue and its limit (`AUDIT_GET`) when the report was made; nil in shadow mode.
    public var kernelBacklog: UInt32?
    public var kernelBacklogLimit: UInt32?
    public var writeLatency = WriteLatencyHistogram()

    /// Every way a record can be lost, counted apart.
    public struct Losses: Sendable, Equatable {
        /// Records the disk would not take (the buffer was full of unwritable bytes).
        public var diskRefused: UInt64 = 0
        /// Records received while logging was suspended or `write_logs = no`.
        public var notLogged: UInt64 = 0
        /// Times the socket's receive queue overflowed (`ENOBUFS`): the kernel re-queued or
        /// dropped records (dropped ones show in the kernel's `lost`).
        public var socketOverruns: UInt64 = 0
        /// Datagrams refused: not sent by the kernel.
        public var refusedSenders: UInt64 = 0
        /// Datagrams refused: not a netlink message.
        public var malformed: UInt64 = 0
        /// Records longer than a receive slot, written cut short.
        public var truncated: UInt64 = 0

        public init() {}

        /// Records lost by the daemon itself (what the disk refused, what a suspension skipped).
        public var recordsLostByDaemon: UInt64 { diskRefused + notLogged }
    }

    public init() {}

    /// Records the kernel dropped while this daemon was registered, when both counts are known.
    public var kernelLostWhileRunning: UInt32? {
        guard let start = kernelLostAtRegistration, let now = kernelLost else { return nil }
        return now &- start
    }

    // MARK: - The file

    /// The report as the state file holds it.
    public func rendered() -> String {
        var lines: [(String, String)] = [
            // auditd's own lines, under its names.
            ("audit version", version),
            ("current time", Self.auditdTime(time)),
            ("process priority", "\(priority)"),
            ("writing to logs", writingToLogs && suspension == nil ? "yes" : "no"),
            ("current log size", "\(logSize / 1024) KB"),
            ("max log size", "\(maxLogSizeKiB) KB"),
            ("logs detected last rotate/shift", "\(rotatedFiles)"),
            ("space left on partition", spaceLeftOnPartition ? "yes" : "no"),
            // auditd writes these three without " = ".
            ("Logging partition free space \(freeSpaceMiB.map { "\($0)" } ?? "?") MB", ""),
            ("space_left setting \(spaceLeftMiB) MB", ""),
            ("admin_space_left setting \(adminSpaceLeftMiB) MB", ""),
            ("logging suspended", suspension == nil ? "no" : "yes"),
            ("file system space action performed", spaceLeftActionPerformed ? "yes" : "no"),
            ("admin space action performed", adminSpaceLeftActionPerformed ? "yes" : "no"),
            ("disk error detected", diskErrorDetected ? "yes" : "no"),
            // auditd's dispatcher lines (`libdisp_write_queue_state`).
            ("Number of active plugins", "\(plugins.count)"),
            ("plugin queue size", "\(pluginQueueDepth)"),
            ("plugin queue overflow detected", plugins.contains { $0.dropped > 0 } ? "yes" : "no"),
            // swift-auditd's.
            ("report number", "\(sequence)"),
            ("report time", "\(time)"),
            ("pid", "\(pid)"),
            ("started", "\(startedAt)"),
            ("mode", mode),
            ("log file", logFile),
            ("log format", logFormat),
            ("write_logs", writingToLogs ? "yes" : "no"),
            ("log size bytes", "\(logSize)"),
            ("suspension reason", suspension ?? "none"),
            ("rotations", "\(rotations)"),
            ("last rotation", lastRotation.map { "\($0)" } ?? "never"),
            ("last rotation reason", lastRotationReason ?? "none"),
            ("records received", "\(recordsReceived)"),
            ("records written", "\(recordsWritten)"),
            ("daemon records written", "\(daemonRecordsWritten)"),
            ("held records collected", heldRecordsCollected.map { "\($0)" } ?? "unknown"),
            ("lost disk refused", "\(losses.diskRefused)"),
            ("lost not logged", "\(losses.notLogged)"),
            ("socket overruns", "\(losses.socketOverruns)"),
            ("refused senders", "\(losses.refusedSenders)"),
            ("malformed datagrams", "\(losses.malformed)"),
            ("truncated records", "\(losses.truncated)"),
            ("kernel lost at registration", kernelLostAtRegistration.map { "\($0)" } ?? "unknown"),
            ("kernel lost", kernelLost.map { "\($0)" } ?? "unknown"),
            ("kernel backlog", kernelBacklog.map { "\($0)" } ?? "unknown"),
            ("kernel backlog limit", kernelBacklogLimit.map { "\($0)" } ?? "unknown"),
            ("bytes written", "\(bytesWritten)"),
            ("free space bytes", freeSpaceBytes.map { "\($0)" } ?? "unknown"),
            ("write latency buckets", writeLatency.counts.map { "\($0)" }.joined(separator: " ")),
            ("write latency sum ns", "\(writeLatency.sumNanoseconds)"),
        ] + recordsReceivedByType.sorted { $0.key < $1.key }.map { ("\(Self.byTypePrefix)\($0.key)", "\($0.value)") }
          + plugins.map { plugin in
            ("plugin \(plugin.name)", "state=\(plugin.state.rawValue) pid=\(plugin.pid) format=\(plugin.format.rawValue) "
                + "queued=\(plugin.queued) dropped=\(plugin.dropped) restarts=\(plugin.restarts) readers=\(plugin.readers) path=\(plugin.path)")
        } + remoteClients.enumerated().map { ("remote client \($0.offset + 1)", $0.element) }
          + (remoteListening ? [("remote listener", "yes")] : [])
          + remoteRecordsByAddress.sorted { $0.key < $1.key }.map { ("\(Self.remoteRecordsPrefix)\($0.key)", "\($0.value)") }
        lines = lines.map { ($0.0.replacingNewlines(), $0.1.replacingNewlines()) }
        return lines.map { $0.1.isEmpty && $0.0.hasSuffix(" MB") ? "\($0.0)\n" : "\($0.0) = \($0.1)\n" }.joined()
    }

    /// Reads a report back; fields it does not find keep their defaults.
    public init(parsing text: String) {
        var fields: [Substring: Substring] = [:]
        for line in text.split(separator: "\n") {
            if let range = line.firstRange(of: " = ") {
                fields[line[..<range.lowerBound]] = line[range.upperBound...]
            } else if line.hasSuffix(" MB"), let space = line.dropLast(3).lastIndex(of: " ") {
                // auditd's "NAME N MB" lines.
                fields[line[..<space]] = line[line.index(after: space)..<line.index(line.endIndex, offsetBy: -3)]
            }
        }
        func string(_ key: Substring) -> String? { fields[key].map(String.init) }
        func number<T: FixedWidthInteger>(_ key: Substring, _: T.Type = T.self) -> T? { fields[key].flatMap { T($0) } }
        version = string("audit version") ?? version
        priority = number("process priority") ?? 0
        sequence = number("report number") ?? 0
        time = number("report time") ?? 0
        pid = number("pid") ?? 0
        startedAt = number("started") ?? 0
        mode = string("mode") ?? mode
        logFile = string("log file") ?? ""
        logFormat = string("log format") ?? ""
        writingToLogs = string("write_logs") != "no"
        suspension = string("suspension reason").flatMap { $0 == "none" ? nil : $0 }
        logSize = number("log size bytes") ?? 0
        rotatedFiles = number("logs detected last rotate/shift") ?? 0
        rotations = number("rotations") ?? 0
        maxLogSizeKiB = fields["max log size"].flatMap { UInt64($0.dropLast(3)) } ?? 0
        freeSpaceMiB = number("Logging partition free space")
        spaceLeftMiB = number("space_left setting") ?? 0
        adminSpaceLeftMiB = number("admin_space_left setting") ?? 0
        spaceLeftOnPartition = string("space left on partition") != "no"
        spaceLeftActionPerformed = string("file system space action performed") == "yes"
        adminSpaceLeftActionPerformed = string("admin space action performed") == "yes"
        diskErrorDetected = string("disk error detected") == "yes"
        lastRotation = number("last rotation")
        lastRotationReason = string("last rotation reason").flatMap { $0 == "none" ? nil : $0 }
        recordsReceived = number("records received") ?? 0
        recordsWritten = number("records written") ?? 0
        daemonRecordsWritten = number("daemon records written") ?? 0
        heldRecordsCollected = number("held records collected")
        losses.diskRefused = number("lost disk refused") ?? 0
        losses.notLogged = number("lost not logged") ?? 0
        losses.socketOverruns = number("socket overruns") ?? 0
        losses.refusedSenders = number("refused senders") ?? 0
        losses.malformed = number("malformed datagrams") ?? 0
        losses.truncated = number("truncated records") ?? 0
        kernelLostAtRegistration = number("kernel lost at registration")
        kernelLost = number("kernel lost")
        pluginQueueDepth = number("plugin queue size") ?? 0
        kernelBacklog = number("kernel backlog")
        kernelBacklogLimit = number("kernel backlog limit")
        bytesWritten = number("bytes written") ?? 0
        freeSpaceBytes = number("free space bytes")
        if let buckets = fields["write latency buckets"]?.split(separator: " ").compactMap({ UInt64($0) }),
           buckets.count == writeLatency.counts.count {
            writeLatency.counts = buckets
        }
        writeLatency.sumNanoseconds = number("write latency sum ns") ?? 0
        for (key, value) in fields where key.hasPrefix(Self.byTypePrefix) {
            if let count = UInt64(value) { recordsReceivedByType[String(key.dropFirst(Self.byTypePrefix.count))] = count }
        }
        plugins = fields.keys.filter { $0.hasPrefix("plugin ") && $0 != "plugin queue size" && $0 != "plugin queue overflow detected" }
            .sorted().compactMap { key in Self.plugin(named: String(key.dropFirst("plugin ".count)), fields[key]!) }
        remoteClients = fields.keys.compactMap { key in key.hasPrefix("remote client ") ? Int(key.dropFirst("remote client ".count)) : nil }
            .sorted().compactMap { fields["remote client \($0)"].map(String.init) }
        remoteListening = string("remote listener") == "yes"
        for (key, value) in fields where key.hasPrefix(Self.remoteRecordsPrefix) {
            if let count = UInt64(value) { remoteRecordsByAddress[String(key.dropFirst(Self.remoteRecordsPrefix.count))] = count }
        }
    }

    /// The lines of `recordsReceivedByType`: `records received type SYSCALL = 12`.
    static let byTypePrefix = "records received type "

    /// The lines of `remoteRecordsByAddress`: `remote records from ::ffff:192.0.2.1 = 12`.
    static let remoteRecordsPrefix = "remote records from "

    /// A plugin's line read back: `state=… pid=… format=… queued=… dropped=… restarts=… readers=… path=…`.
    static func plugin(named name: String, _ text: Substring) -> PluginStatus? {
        guard let pathStart = text.firstRange(of: " path=") else { return nil }
        var values: [Substring: Substring] = [:]
        for pair in text[..<pathStart.lowerBound].split(separator: " ") {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            values[pair[..<equals]] = pair[pair.index(after: equals)...]
        }
        guard let state = values["state"].flatMap({ PluginStatus.State(rawValue: String($0)) }),
              let format = values["format"].flatMap({ PluginConfiguration.Format(rawValue: String($0)) }) else { return nil }
        func number<T: FixedWidthInteger>(_ key: Substring) -> T { values[key].flatMap { T($0) } ?? 0 }
        return PluginStatus(name: name, path: String(text[pathStart.upperBound...]), pid: number("pid"), state: state,
                            queued: number("queued"), dropped: number("dropped"), restarts: number("restarts"),
                            readers: number("readers"), format: format)
    }

    /// auditd's `current time`: `strftime("%x %X")` in the C locale, local time.
    static func auditdTime(_ seconds: Int) -> String {
        var value = time_t(seconds)
        var parts = tm()
        localtime_r(&value, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%m/%d/%y %H:%M:%S", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    fileprivate func replacingNewlines() -> String { String(map { $0 == "\n" ? " " : $0 }) }
}

/// swift-auditd's version, written in `DAEMON_START` (`ver=`) and the state report.
public enum SwiftAuditdVersion {
    public static let current = "0.1.0"
}
