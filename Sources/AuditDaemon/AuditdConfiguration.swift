import AuditDispatch
import AuditSystem
import AuditLog
import RemoteProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The settings swift-auditd takes from `auditd.conf`, the file auditd itself reads, with every
/// keyword auditd knows and auditd's compiled-in defaults (`clear_config`, src/auditd-config.c).
///
/// ausearch and aureport read this same file with the same strict parser, so swift-auditd's own
/// settings never go here: they are command-line options.
public struct AuditdConfiguration: Sendable, Equatable {
    public static let defaultLogFile = "/var/log/audit/audit.log"

    /// `local_events`: with no, auditd only aggregates remote events. Noted as unsupported.
    public var localEvents = true
    /// `write_logs`: with no, records are received and counted, and no file is written.
    public var writeLogs = true
    public var logFile: String = defaultLogFile
    public var logFormat: LogFormat = .enriched
    /// `log_group`: the group that may read the logs (0: root only).
    public var logGroup: gid_t = 0
    /// How much to raise the daemon's scheduling priority (`nice(-priority_boost)`); auditd's default is 4.
    public var priorityBoost: Int32 = 4
    public var flush: FlushMode = .none
    public var freq: Int = 0
    public var numLogs: Int = 0
    public var nameFormat: NodeNameFormat = .none
    /// `name`, for `name_format = user`.
    public var name: String?
    /// `max_log_file` in MiB.
    public var maxLogFile: UInt64 = 0
    public var maxLogFileAction: MaxLogFileAction = .ignore
    public var verifyEmail = true
    public var actionMailAccount = "root"
    public var spaceLeft: SpaceThreshold = .megabytes(0)
    public var spaceLeftAction: DiskAction = .ignore
    public var adminSpaceLeft: SpaceThreshold = .megabytes(0)
    public var adminSpaceLeftAction: DiskAction = .ignore
    public var diskFullAction: DiskAction = .ignore
    public var diskErrorAction: DiskAction = .syslog
    /// `end_of_event_timeout` in seconds (ausearch's and the enriched formatter's event grouping).
    public var endOfEventTimeout: Int = 2
    /// `plugin_dir`, `q_depth`, `overflow_action`, `max_restarts`: the plugin dispatcher.
    public var dispatcher = DispatcherSettings()
    /// The network listener's keywords (`tcp_*`, `use_libwrap`, `transport`, `krb5_*`,
    /// `distribute_network`), typed and checked as auditd checks them. They are also in
    /// `unsupported` until the daemon runs the listener (AuditRemote).
    public var remote = RemoteListenerSettings()
    /// Settings for parts swift-auditd does not have (network listener, email,
    /// Kerberos/TLS), accepted as auditd accepts them: keyword (lower case) → value.
    public var unsupported: [String: String] = [:]

    public init(logFile: String = defaultLogFile, logFormat: LogFormat = .enriched) {
        self.logFile = logFile
        self.logFormat = logFormat
    }

    /// The dispatcher's settings, with the protocol auditd picks for local records: the log's
    /// line when it is ENRICHED or carries a node name, the kernel's text otherwise.
    public var dispatcherSettings: DispatcherSettings {
        var settings = dispatcher
        settings.localProtocol = .forLocalRecords(enriched: logFormat == .enriched, hasNodeName: nameFormat != .none)
        return settings
    }

    /// The log-file settings the writer uses.
    public var logSettings: LogSettings {
        LogSettings(
            path: logFile, writeLogs: writeLogs, group: logGroup == 0 ? nil : logGroup, flush: flush, freq: freq,
            rotation: RotationPolicy(maxLogFileMiB: maxLogFile, action: maxLogFileAction, numLogs: numLogs),
            space: DiskSpacePolicy(spaceLeft: spaceLeft, spaceLeftAction: spaceLeftAction, adminSpaceLeft: adminSpaceLeft,
                                   adminSpaceLeftAction: adminSpaceLeftAction, diskFullAction: diskFullAction,
                                   diskErrorAction: diskErrorAction))
    }

    /// A configuration file read from disk: the settings, and what the parser had to say about it
    /// (deprecated or unsupported keywords, skipped lines), each to be reported once.
    public struct Loaded: Sendable {
        public var configuration: AuditdConfiguration
        public var path: String
        /// False when the file does not exist and the defaults are in force.
        public var found: Bool
        public var notes: [String]
    }

    /// Reads `DIRECTORY/auditd.conf` with auditd's checks: opened `O_NOFOLLOW`, owned by root, not
    /// world-writable, a regular file. A missing file gives the compiled-in defaults, with a note.
    public static func read(directory: String) throws(AuditDaemonError) -> Loaded {
        let path = directory.hasSuffix("/") ? directory + "auditd.conf" : directory + "/auditd.conf"
        guard let bytes = try readConfigurationFile(path) else {
            return Loaded(configuration: AuditdConfiguration(), path: path, found: false,
                          notes: ["Config file \(path) doesn't exist, skipping: running on auditd's compiled-in defaults"])
        }
        let (configuration, notes) = try parse(bytes: bytes, path: path)
        return Loaded(configuration: configuration, path: path, found: true, notes: notes)
    }

    /// Parses the text of an auditd.conf; `path` names the file in errors.
    public static func parse(_ text: String, path: String) throws(AuditDaemonError) -> AuditdConfiguration {
        try parse(bytes: Array(text.utf8), path: path).0
    }

    /// Parses an auditd.conf as auditd's `load_config` does; returns the settings and the notes.
    public static func parse(bytes: [UInt8], path: String) throws(AuditDaemonError) -> (AuditdConfiguration, notes: [String]) {
        var parser = AuditdConfigurationParser(path: path)
        try parser.parse(bytes)
        return (parser.configuration, parser.notes)
    }

    /// The configuration file's bytes, or nil when it does not exist; refused unless it is a
    /// regular file owned by root (or by the user running the daemon) that others cannot write.
    static func readConfigurationFile(_ path: String) throws(AuditDaemonError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP {
                throw AuditDaemonError(.configuration, "Error - \(path) is a symbolic link; auditd.conf is opened without following links")
            }
            throw AuditDaemonError(.configuration, "Error opening config file \(path) (\(Errno(errno).description))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw AuditDaemonError(.configuration, "Error fstat'ing config file \(path) (\(Errno(errno).description))")
        }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw AuditDaemonError(.configuration, "Error - \(path) isn't owned by root")
        }
        guard info.st_mode & S_IWOTH == 0 else {
            throw AuditDaemonError(.configuration, "Error - \(path) is world writable")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw AuditDaemonError(.configuration, "Error - \(path) is not a regular file")
        }
        return try readAll(fd, path: path)
    }

    /// The whole file, or nil when it does not exist.
    static func readFile(_ path: String) throws(AuditDaemonError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw AuditDaemonError(.configuration, "cannot open \(path): \(Errno(errno).description)")
        }
        defer { close(fd) }
        return String(decoding: try readAll(fd, path: path), as: UTF8.self)
    }

    private static func readAll(_ fd: Int32, path: String) throws(AuditDaemonError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw AuditDaemonError(.configuration, "cannot read \(path): \(Errno(errno).description)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}

/// `name_format`: what the `node=` prefix of every line says.
public enum NodeNameFormat: String, Sendable, Equatable, CaseIterable {
    case none, hostname, fqd, numeric, user
}
