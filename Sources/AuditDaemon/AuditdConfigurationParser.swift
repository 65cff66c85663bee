import AuditDispatch
import AuditSystem
import AuditLog
import RemoteProtocol
#if canImport(Glibc)
import Glibc
#endif

/// auditd's `load_config` (src/auditd-config.c, 3.0.9), line by line and check by check, so that
/// a file auditd accepts is accepted here and a file it refuses is refused, with auditd's message
/// and the line: `PATH:LINE: <auditd's text>`, exit status 6.
///
/// - Lines are read as `fgets` into 512 bytes reads them: a line of 511 bytes or more (without its
///   newline) is skipped with a note. Unlike auditd, a last line without a newline is read too.
/// - Tokens are split on the ASCII space only (`audit_strsplit`): a tab is part of a token, and
///   `key=value` is one token, hence an error.
/// - A line whose first token starts with `#` is a comment; a comment after a value is a fourth
///   token, an option only `*_action` keywords may have.
/// - Keywords and enumerated values are case-insensitive.
/// - After the last line, `sanity_check`: `space_left` > `admin_space_left` (unless one is a
///   percentage), incremental flushing needs `freq`, a non-root `log_group` may not chgrp
///   `/var/log`. Unlike auditd, the space marks are compared only when the file sets one of them:
///   both defaults are 0, and auditd refuses a minimal file that sets neither
///   (snowdrop/k8s-infra#259).
struct AuditdConfigurationParser {
    let path: String
    var configuration = AuditdConfiguration()
    var notes: [String] = []
    /// The line each keyword was last set on.
    private var lines: [String: Int] = [:]
    private var unsupportedLines: [(String, Int)] = []

    init(path: String) { self.path = path }

    /// auditd reads into `char buf[512]` with `fgets`: 511 bytes and the terminator.
    static let lineBuffer = 512

    mutating func parse(_ bytes: [UInt8]) throws(AuditDaemonError) {
        var lineNumber = 0
        var start = 0
        var sawLine = false
        while start < bytes.count {
            lineNumber += 1
            sawLine = true
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            defer { start = end + 1 }
            // What C sees of the line stops at a NUL.
            var contentEnd = start
            while contentEnd < end, bytes[contentEnd] != 0 { contentEnd += 1 }
            if end - start >= Self.lineBuffer - 1 {
                notes.append("Skipping line \(lineNumber) in \(path): too long")
                continue
            }
            try parseLine(bytes[start..<contentEnd], number: lineNumber)
        }
        if !unsupportedLines.isEmpty {
            let list = unsupportedLines.map { "\($0.0) (line \($0.1))" }.joined(separator: ", ")
            notes.append("\(path): accepted but not supported by swift-auditd, so ignored (it has no email, "
                + "Kerberos or TLS): \(list)")
        }
        if sawLine { try sanityCheck() }
    }

    private func error(_ line: Int, _ message: String) -> AuditDaemonError {
        AuditDaemonError(.configuration, "\(path):\(line): \(message)")
    }

    private mutating func parseLine(_ line: ArraySlice<UInt8>, number: Int) throws(AuditDaemonError) {
        let tokens = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
        guard let keyword = tokens.first, !keyword.hasPrefix("#") else { return }
        guard tokens.count >= 2 else { throw error(number, "Wrong number of arguments for line \(number) in \(path)") }
        guard tokens[1] == "=" else { throw error(number, "Missing equal sign for line \(number) in \(path)") }
        guard tokens.count >= 3 else { throw error(number, "Wrong number of arguments for line \(number) in \(path)") }
        let value = tokens[2]
        let option = tokens.count >= 4 ? tokens[3] : nil
        if tokens.count > 4 {
            // auditd reports it and goes on with the first option.
            notes.append("Wrong number of arguments for line \(number) in \(path)")
        }
        let name = keyword.lowercased()
        guard let entry = Self.keywords[name] else {
            throw error(number, "Unknown keyword \"\(keyword)\" in line \(number) of \(path)")
        }
        if let option, !entry.takesOption {
            throw error(number, "Keyword \"\(keyword)\" has invalid option \"\(option)\" in line \(number) of \(path)")
        }
        lines[name] = number
        if entry.unsupported { unsupportedLines.append((name, number)) }
        try apply(name, value: value, option: option, line: number)
    }

    struct Keyword {
        var takesOption = false
        var unsupported = false
    }

    /// Every keyword auditd 3.0.9 knows, and the 4.x ones (`report_interval`, TLS); whether an
    /// option (`exec /path`) may follow, and whether swift-auditd has the part it configures.
    static let keywords: [String: Keyword] = {
        var table: [String: Keyword] = [:]
        for name in ["local_events", "write_logs", "log_file", "log_format", "log_group", "flush", "freq", "num_logs",
                     "name_format", "name", "max_log_file", "max_log_file_action", "space_left", "admin_space_left",
                     "priority_boost", "end_of_event_timeout", "dispatcher", "disp_qos", "q_depth", "overflow_action",
                     "max_restarts", "plugin_dir",
                     // The remote listener's (AuditRemote, run by the daemon): transport = KRB5 is
                     // refused at start rather than noted here.
                     "tcp_listen_port", "tcp_listen_queue", "tcp_max_per_addr", "use_libwrap", "tcp_client_ports",
                     "tcp_client_max_idle", "transport", "distribute_network"] {
            table[name] = Keyword()
        }
        for name in ["space_left_action", "admin_space_left_action", "disk_full_action", "disk_error_action"] {
            table[name] = Keyword(takesOption: true)
        }
        for name in ["action_mail_acct", "verify_email", "enable_krb5",
                     "krb5_principal", "krb5_key_file", "report_interval", "tls_auth", "tls_crypto_profile",
                     "tls_psk_file", "tls_psk_identity", "tls_allowed_clients", "tls_cipher_suites",
                     "tls_key_exchange", "tls_require_pqc"] {
            table[name] = Keyword(unsupported: true)
        }
        return table
    }()

    private mutating func apply(_ name: String, value: String, option: String?, line: Int) throws(AuditDaemonError) {
        switch name {
        case "local_events":
            configuration.localEvents = try yesNo(value, line)
        case "write_logs":
            configuration.writeLogs = try yesNo(value, line)
        case "log_file":
            try parseLogFile(value, line)
        case "log_format":
            switch value.lowercased() {
            case "raw": configuration.logFormat = .raw
            case "enriched": configuration.logFormat = .enriched
            case "nolog":
                notes.append("The NOLOG option to log_format is deprecated. Please use the write_logs option.")
                if configuration.writeLogs {
                    notes.append("The NOLOG option is overriding the write_logs current setting.")
                }
                configuration.writeLogs = false
            default:
                throw notFound(value, line)
            }
        case "log_group":
            configuration.logGroup = try group(value, line)
        case "flush":
            guard let mode = FlushMode(rawValue: value.lowercased()) else { throw notFound(value, line) }
            configuration.flush = mode
        case "freq":
            configuration.freq = Int(try number(value, line, maximum: UInt64(Int32.max)))
        case "num_logs":
            let count = try number(value, line)
            guard count <= 999 else { throw error(line, "num_logs must be 999 or less") }
            configuration.numLogs = Int(count)
        case "dispatcher":
            notes.append("The dispatcher option is deprecated - line \(line)")
        case "disp_qos":
            notes.append("The disp_qos option is deprecated - line \(line)")
        case "name_format":
            guard let format = NodeNameFormat(rawValue: value.lowercased()) else { throw notFound(value, line) }
            configuration.nameFormat = format
        case "name":
            configuration.name = value
        case "max_log_file":
            configuration.maxLogFile = try number(value, line)
        case "max_log_file_action":
            guard let action = MaxLogFileAction(rawValue: value.lowercased()) else { throw notFound(value, line) }
            configuration.maxLogFileAction = action
        case "space_left":
            configuration.spaceLeft = try threshold(value, line)
        case "admin_space_left":
            configuration.adminSpaceLeft = try threshold(value, line)
        case "space_left_action":
            configuration.spaceLeftAction = try action(value, option, line, keyword: name)
        case "admin_space_left_action":
            configuration.adminSpaceLeftAction = try action(value, option, line, keyword: name)
        case "disk_full_action":
            configuration.diskFullAction = try action(value, option, line, keyword: name, illegal: ["email"])
        case "disk_error_action":
            configuration.diskErrorAction = try action(value, option, line, keyword: name, illegal: ["email", "rotate"])
        case "priority_boost":
            configuration.priorityBoost = Int32(try number(value, line, maximum: UInt64(Int32.max)))
        case "end_of_event_timeout":
            configuration.endOfEventTimeout = Int(try number(value, line, maximum: UInt64(Int32.max)))
        case "q_depth":
            let depth = try number(value, line)
            guard depth <= 99999 else { throw error(line, "q_depth must be 99999 or less") }
            if depth < 512 { notes.append("q_depth should be larger than 512 for safety margin") }
            configuration.dispatcher.queueDepth = Int(depth)
        case "overflow_action":
            guard let action = OverflowAction(rawValue: value.lowercased()) else { throw notFound(value, line) }
            configuration.dispatcher.overflowAction = action
        case "max_restarts":
            configuration.dispatcher.maxRestarts = Int(try number(value, line, maximum: UInt64(Int32.max)))
        case "plugin_dir":
            configuration.dispatcher.pluginDirectory = value
        case "verify_email":
            configuration.verifyEmail = try yesNo(value, line)
            configuration.unsupported[name] = value
        case "action_mail_acct":
            if configuration.verifyEmail { try validateEmail(value, line) }
            configuration.actionMailAccount = value
            configuration.unsupported[name] = value
        default:
            let remote = try applyRemote(name, value, line)
            if !remote { try validateUnsupported(name, value, line) }
            // The listener's keywords the daemon honours are not "unsupported"; krb5_* are.
            if !remote || Self.keywords[name]?.unsupported == true { configuration.unsupported[name] = value }
        }
    }

    /// The listener's keywords into `configuration.remote`, with auditd's checks and messages
    /// (`tcp_listen_port_parser` … `distribute_network_parser`, src/auditd-config.c; auditd built
    /// with the listener and GSS-API, as Debian's is). False for any other keyword.
    private mutating func applyRemote(_ name: String, _ value: String, _ line: Int) throws(AuditDaemonError) -> Bool {
        switch name {
        case "tcp_listen_port":
            configuration.remote.port = UInt16(try range(value, line, 1...65535))
        case "tcp_listen_queue":
            configuration.remote.listenQueue = Int(try range(value, line, 1...65535))
        case "tcp_max_per_addr":
            configuration.remote.maxPerAddress = Int(try range(value, line, 1...1024))
        case "tcp_client_max_idle":
            configuration.remote.clientMaxIdle = Int(try number(value, line, maximum: UInt64(Int32.max)))
        case "tcp_client_ports":
            configuration.remote.clientPorts = try clientPorts(value, line)
        case "use_libwrap":
            configuration.remote.useLibwrap = try yesNo(value, line)
        case "distribute_network":
            configuration.remote.distributeNetwork = try yesNo(value, line)
        case "enable_krb5":
            // The deprecated spelling of transport = KRB5; "no" leaves the transport as it is.
            if try yesNo(value, line) { configuration.remote.transport = .krb5 }
        case "transport":
            guard let transport = RemoteListenerSettings.Transport(rawValue: value.lowercased()) else { throw notFound(value, line) }
            configuration.remote.transport = transport
        case "krb5_principal":
            configuration.remote.krb5Principal = value
        case "krb5_key_file":
            configuration.remote.krb5KeyFile = value
        default:
            return false
        }
        return true
    }

    /// `tcp_client_ports`: `N` or `N-M`, each at most 65535, not reversed.
    private func clientPorts(_ value: String, _ line: Int) throws(AuditDaemonError) -> ClosedRange<UInt16> {
        let parts = value.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }) else {
            throw error(line, "Value \(value) should only be numbers, or two numbers separated by a dash - line \(line)")
        }
        let bounds = parts.map { UInt64($0) ?? .max }
        if let tooLarge = bounds.first(where: { $0 > 65535 }) {
            throw error(line, "Error - converted number (\(tooLarge)) is too large - line \(line)")
        }
        let low = UInt16(bounds[0]), high = UInt16(bounds.count == 2 ? bounds[1] : bounds[0])
        guard low <= high else { throw error(line, "Error - converted range (\(low)-\(high)) is reversed - line \(line)") }
        return low...high
    }

    // MARK: - Values

    private func notFound(_ value: String, _ line: Int) -> AuditDaemonError {
        error(line, "Option \(value) not found - line \(line)")
    }

    private func yesNo(_ value: String, _ line: Int) throws(AuditDaemonError) -> Bool {
        switch value.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw notFound(value, line)
        }
    }

    /// Digits only, as auditd's `isdigit` loop, then `strtoul`.
    private func number(_ value: String, _ line: Int, maximum: UInt64 = UInt64.max) throws(AuditDaemonError) -> UInt64 {
        guard value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw error(line, "Value \(value) should only be numbers - line \(line)")
        }
        guard let number = UInt64(value) else {
            throw error(line, "Error converting string to a number (\(Errno(ERANGE).description)) - line \(line)")
        }
        guard number <= maximum else {
            throw error(line, "Error - converted number (\(value)) is too large - line \(line)")
        }
        return number
    }

    private func range(_ value: String, _ line: Int, _ bounds: ClosedRange<UInt64>) throws(AuditDaemonError) -> UInt64 {
        let number = try number(value, line)
        if number > bounds.upperBound { throw error(line, "Error - converted number (\(value)) is too large - line \(line)") }
        if number < bounds.lowerBound { throw error(line, "Error - converted number (\(value)) is too small - line \(line)") }
        return number
    }

    /// MiB, or a percentage of the file system: digits, optionally ending in `%`, below 100%.
    private func threshold(_ value: String, _ line: Int) throws(AuditDaemonError) -> SpaceThreshold {
        var digits = Substring(value)
        let percent = digits.hasSuffix("%")
        if percent { digits = digits.dropLast() }
        if let bad = digits.first(where: { !("0"..."9").contains($0) }) ?? (digits.isEmpty && percent ? "%" : nil) {
            throw error(line, "Value \(bad) \(value) should only be numbers or percent - line \(line)")
        }
        guard let number = UInt64(digits.isEmpty ? "0" : String(digits)) else {
            throw error(line, "Error converting string to a number (\(Errno(ERANGE).description)) - line \(line)")
        }
        guard percent else { return .megabytes(number) }
        guard number < 100 else { throw error(line, "Percentages should be less than 100 - line \(line)") }
        return .percent(number)
    }

    private mutating func action(_ value: String, _ option: String?, _ line: Int, keyword: String,
                        illegal: Set<String> = []) throws(AuditDaemonError) -> DiskAction {
        let lowered = value.lowercased()
        let action: DiskAction
        switch lowered {
        case "ignore": action = .ignore
        case "syslog": action = .syslog
        case "rotate": action = .rotate
        case "email": action = .email
        case "suspend": action = .suspend
        case "single": action = .single
        case "halt": action = .halt
        case "exec":
            guard let option else { throw error(line, "Executable path needed for line \(line)") }
            try checkExecutable(option, line)
            action = .exec(option)
        default:
            throw notFound(value, line)
        }
        if illegal.contains(lowered) {
            throw error(line, "Illegal option \(value) for \(keyword) - line \(line)")
        }
        if action == .email {
            unsupportedLines.append(("\(keyword) = email", line))
            if access("/usr/lib/sendmail", X_OK) != 0 {
                notes.append("Email option is specified but /usr/lib/sendmail doesn't seem executable.")
            }
        }
        return action
    }

    /// auditd's `check_exe_name`: absolute, a regular file owned by root, mode 0750, 0755, 0555 or 0550.
    private func checkExecutable(_ path: String, _ line: Int) throws(AuditDaemonError) {
        guard path.hasPrefix("/") else { throw error(line, "Absolute path needed for \(path) - line \(line)") }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw error(line, "Unable to stat \(path) (\(Errno(errno).description)) - line \(line)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw error(line, "\(path) is not a regular file - line \(line)") }
        guard info.st_uid == 0 else { throw error(line, "\(path) is not owned by root - line \(line)") }
        guard [0o750, 0o755, 0o555, 0o550].contains(info.st_mode & 0o777) else {
            throw error(line, "\(path) permissions should be 0750, 0755, 0555 or 0550 - line \(line)")
        }
    }

    /// A numeric gid, or a group name from the group database.
    private func group(_ value: String, _ line: Int) throws(AuditDaemonError) -> gid_t {
        if let first = value.utf8.first, first >= 0x30, first <= 0x39 {
            let digits = value.prefix { ("0"..."9").contains($0) }
            guard let gid = UInt32(digits) else {
                throw error(line, "Numeric group ID conversion error (\(Errno(ERANGE).description)) for \(value) - line \(line)")
            }
            return gid
        }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(value, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            throw error(line, "Group ID is non-numeric and unknown (\(value)) - line \(line)")
        }
        return entry.gr_gid
    }

    /// auditd's `log_file_parser`: the directory name must be at least `/var` long. swift-auditd
    /// also wants an absolute path (auditd would resolve a relative one against its working
    /// directory). The directory is created when missing, so it need not exist yet.
    private mutating func parseLogFile(_ value: String, _ line: Int) throws(AuditDaemonError) {
        let directory = LogFile.parent(of: value)
        guard directory.utf8.count >= 4 else {
            throw error(line, "The directory name: \(directory) is too short - line \(line)")
        }
        guard value.hasPrefix("/") else {
            throw error(line, "log_file \(value) must be an absolute path - line \(line)")
        }
        configuration.logFile = value
    }

    /// auditd's `validate_email` (without the DNS lookup, whose failure auditd does not treat as fatal).
    private func validateEmail(_ account: String, _ line: Int) throws(AuditDaemonError) {
        guard account.utf8.count >= 2 else {
            throw error(line, "email: \(account) is too short, expecting at least 2 characters")
        }
        let allowed = Set("@.-_+".utf8)
        guard account.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || allowed.contains($0) }) else {
            throw error(line, "email: \(account) has illegal character")
        }
        if let at = account.firstIndex(of: "@") {
            guard let dot = account.lastIndex(of: "."), dot > at else {
                throw error(line, "email: \(account) should have . after @")
            }
        }
    }

    /// The values auditd checks for the keywords of parts swift-auditd does not have.
    private mutating func validateUnsupported(_ name: String, _ value: String, _ line: Int) throws(AuditDaemonError) {
        switch name {
        case "report_interval":
            var digits = Substring(value)
            if let last = digits.last, "mhdM".contains(last) { digits = digits.dropLast() }
            _ = try number(String(digits), line)
        default:
            break  // strings: tls_*
        }
    }

    // MARK: - sanity_check

    private mutating func sanityCheck() throws(AuditDaemonError) {
        let spaceLine = max(lines["space_left"] ?? 0, lines["admin_space_left"] ?? 0)
        if spaceLine > 0, case let .megabytes(spaceLeft) = configuration.spaceLeft,
           case let .megabytes(adminSpaceLeft) = configuration.adminSpaceLeft, spaceLeft <= adminSpaceLeft {
            throw error(spaceLine, "Error - space_left(\(spaceLeft)) must be larger than admin_space_left(\(adminSpaceLeft))")
        }
        if configuration.flush.isIncremental, configuration.freq == 0 {
            throw error(lines["flush"] ?? 0, "Error - incremental flushing chosen, but 0 selected for freq")
        }
        if configuration.logGroup != 0, LogFile.parent(of: configuration.logFile) == "/var/log" {
            throw error(lines["log_group"] ?? lines["log_file"] ?? 0, "Error - log_file is directly in /var/log and chgrp will "
                + "alter a system directory's permissions. Use another directory.")
        }
        if !configuration.flush.isIncremental, configuration.freq != 0 {
            notes.append("Warning - freq is non-zero and incremental flushing not selected.")
        }
    }
}
