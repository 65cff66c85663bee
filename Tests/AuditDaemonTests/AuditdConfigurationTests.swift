import AuditDaemon
import AuditDispatch
import AuditLog
import AuditTestKit
import Foundation
import RemoteProtocol
import Testing

/// auditd.conf read as auditd 3.0.9 reads it (src/auditd-config.c: `load_config`, `nv_split`,
/// `sanity_check`): the same files accepted, the same refused, errors naming the line, exit 6.
@Suite struct AuditdConfigurationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let debianPath = fixtures.appendingPathComponent("debian-3.0.9-auditd.conf").path

    func parse(_ text: String) throws(AuditDaemonError) -> (AuditdConfiguration, notes: [String]) {
        try AuditdConfiguration.parse(bytes: Array(text.utf8), path: "/etc/audit/auditd.conf")
    }

    /// The error for `text`, which must be a configuration error (exit 6).
    func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)", sourceLocation: sourceLocation)
            return ""
        } catch {
            #expect(error.code.exitStatus == 6, sourceLocation: sourceLocation)
            return error.message
        }
    }

    @Test func debiansShippedFileLoadsUnchanged() throws {
        let text = try String(contentsOfFile: Self.debianPath, encoding: .utf8)
        let (configuration, notes) = try parse(text)
        #expect(configuration.localEvents && configuration.writeLogs)
        #expect(configuration.logFile == "/var/log/audit/audit.log")
        #expect(configuration.logGroup == 4, "adm")
        #expect(configuration.logFormat == .enriched)
        #expect(configuration.flush == .incrementalAsync && configuration.freq == 50)
        #expect(configuration.maxLogFile == 8 && configuration.numLogs == 5 && configuration.maxLogFileAction == .rotate)
        #expect(configuration.priorityBoost == 4)
        #expect(configuration.nameFormat == .none && configuration.name == nil)
        #expect(configuration.spaceLeft == .megabytes(75) && configuration.spaceLeftAction == .syslog)
        #expect(configuration.adminSpaceLeft == .megabytes(50) && configuration.adminSpaceLeftAction == .suspend)
        #expect(configuration.diskFullAction == .suspend && configuration.diskErrorAction == .suspend)
        #expect(configuration.endOfEventTimeout == 2)
        #expect(configuration.unsupported["tcp_listen_queue"] == nil, "the daemon runs the listener")
        #expect(configuration.dispatcher.pluginDirectory == "/etc/audit/plugins.d")
        #expect(configuration.dispatcher.queueDepth == 2000 && configuration.dispatcher.overflowAction == .syslog)
        #expect(configuration.dispatcher.maxRestarts == 10)
        #expect(configuration.unsupported["transport"] == nil)
        var remote = RemoteListenerSettings()
        remote.krb5Principal = "auditd"
        #expect(configuration.remote == remote, "Debian's listener keywords are auditd's defaults, the listener off")
        let unsupported = notes.filter { $0.contains("not supported by swift-auditd") }
        #expect(unsupported.count == 1, "reported once: \(notes)")
        for keyword in ["verify_email", "action_mail_acct", "krb5_principal"] {
            #expect(unsupported.first?.contains("\(keyword) (line") == true, "\(keyword) is named")
        }
        for keyword in ["use_libwrap", "tcp_listen_queue", "tcp_max_per_addr", "tcp_client_max_idle", "transport",
                        "distribute_network"] {
            #expect(unsupported.first?.contains("\(keyword) (line") == false, "\(keyword) is honoured")
        }
        #expect(notes.count == 1, "nothing else to say about Debian's file: \(notes)")
        let settings = configuration.logSettings
        #expect(settings.group == 4 && settings.rotation.sizeLimit == 8 * 1_048_576)
    }

    @Test func theInstalledDebianFileIsTheFixtureAndLoadsFromItsDirectory() throws {
        guard let installed = try? String(contentsOfFile: "/etc/audit/auditd.conf", encoding: .utf8) else {
            try Requirement.unmet("no /etc/audit/auditd.conf (apt-get install auditd; make deps installs it)")
        }
        let fixture = try String(contentsOfFile: Self.debianPath, encoding: .utf8)
        try Requirement.check(installed == fixture ? nil : "/etc/audit/auditd.conf was changed on this machine (not Debian's file)")
        let loaded = try AuditdConfiguration.read(directory: "/etc/audit")
        #expect(loaded.found)
        #expect(loaded.configuration == (try parse(fixture)).0)
    }

    @Test func aMissingFileGivesTheCompiledDefaultsWithANote() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loaded = try AuditdConfiguration.read(directory: directory.path)
        #expect(!loaded.found)
        #expect(loaded.configuration == AuditdConfiguration())
        #expect(loaded.notes == ["Config file \(directory.path)/auditd.conf doesn't exist, skipping: running on auditd's compiled-in defaults"])
        let defaults = loaded.configuration
        #expect(defaults.flush == .none && defaults.freq == 0 && defaults.numLogs == 0 && defaults.maxLogFile == 0)
        #expect(defaults.maxLogFileAction == .ignore && defaults.diskErrorAction == .syslog && defaults.diskFullAction == .ignore)
    }

    @Test func aWorldWritableFileASymlinkOrADirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("log_format = RAW\n", to: "auditd.conf")
        chmod(path, 0o646)
        var error = #expect(throws: AuditDaemonError.self) { try AuditdConfiguration.read(directory: directory.path) }
        #expect(error?.message == "Error - \(path) is world writable")
        #expect(error?.code.exitStatus == 6)
        try FileManager.default.removeItem(atPath: path)
        let real = try directory.write("log_format = RAW\n", to: "real.conf")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: real)
        error = #expect(throws: AuditDaemonError.self) { try AuditdConfiguration.read(directory: directory.path) }
        #expect(error?.message.contains("symbolic link") == true)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        error = #expect(throws: AuditDaemonError.self) { try AuditdConfiguration.read(directory: directory.path) }
        #expect(error?.message == "Error - \(path) is not a regular file")
    }

    // MARK: - Syntax

    @Test func tokensAreSplitOnSpacesOnlyAndTheLineIsNamed() {
        #expect(failure("# one\nlog_file=/var/log/x/audit.log\n")
            == "/etc/audit/auditd.conf:2: Wrong number of arguments for line 2 in /etc/audit/auditd.conf")
        #expect(failure("\n\nlog_format\t=\tRAW\n").hasPrefix("/etc/audit/auditd.conf:3: Wrong number of arguments"))
        #expect(failure("log_format RAW\n") == "/etc/audit/auditd.conf:1: Missing equal sign for line 1 in /etc/audit/auditd.conf")
        #expect(failure("log_format =\n").hasPrefix("/etc/audit/auditd.conf:1: Wrong number of arguments"))
    }

    @Test func anUnknownKeywordIsFatalWithItsLine() {
        #expect(failure("log_format = RAW\nswift_auditd_batch = 20\n")
            == "/etc/audit/auditd.conf:2: Unknown keyword \"swift_auditd_batch\" in line 2 of /etc/audit/auditd.conf")
    }

    @Test func commentsAreWholeLinesAndATrailingOneIsAnOption() throws {
        let (configuration, _) = try parse("   # indented comment\n#log_format = bogus\n\nlog_format = RAW\n")
        #expect(configuration.logFormat == .raw)
        #expect(failure("log_format = RAW # raw\n")
            == "/etc/audit/auditd.conf:1: Keyword \"log_format\" has invalid option \"#\" in line 1 of /etc/audit/auditd.conf")
        // An action keyword takes one option: auditd reports the extra token and goes on.
        let (action, notes) = try parse("space_left_action = SYSLOG # warn\n")
        #expect(action.spaceLeftAction == .syslog)
        #expect(notes.contains("Wrong number of arguments for line 1 in /etc/audit/auditd.conf"))
    }

    @Test func keywordsAndValuesAreCaseInsensitive() throws {
        let (configuration, _) = try parse("LOG_FORMAT = Raw\nFlush = Incremental_Async\nfreq = 20\nMax_Log_File_Action = KEEP_LOGS\n")
        #expect(configuration.logFormat == .raw && configuration.flush == .incrementalAsync && configuration.maxLogFileAction == .keepLogs)
    }

    @Test func aLineOf511BytesIsSkippedAndCountingGoesOn() throws {
        let long = "name = " + String(repeating: "n", count: 511 - 7)
        let fits = "name = " + String(repeating: "m", count: 510 - 7)
        let (configuration, notes) = try parse("log_format = RAW\n\(long)\n\(fits)\n")
        #expect(configuration.name == String(fits.dropFirst(7)), "510 bytes fit auditd's 512-byte buffer")
        #expect(notes == ["Skipping line 2 in /etc/audit/auditd.conf: too long"])
        #expect(failure("\(long)\nbogus = 1\n").contains(":2: Unknown keyword \"bogus\" in line 2"))
    }

    @Test func aLastLineWithoutANewlineIsRead() throws {
        #expect(try parse("log_format = RAW").0.logFormat == .raw)
    }

    // MARK: - Values

    @Test func valuesAreCheckedAsAuditdChecksThem() {
        #expect(failure("num_logs = 1000\n") == "/etc/audit/auditd.conf:1: num_logs must be 999 or less")
        #expect(failure("freq = -1\n") == "/etc/audit/auditd.conf:1: Value -1 should only be numbers - line 1")
        #expect(failure("freq = 2147483648\n") == "/etc/audit/auditd.conf:1: Error - converted number (2147483648) is too large - line 1")
        #expect(failure("flush = sometimes\n") == "/etc/audit/auditd.conf:1: Option sometimes not found - line 1")
        #expect(failure("write_logs = true\n") == "/etc/audit/auditd.conf:1: Option true not found - line 1")
        #expect(failure("space_left = 5x\n") == "/etc/audit/auditd.conf:1: Value x 5x should only be numbers or percent - line 1")
        #expect(failure("space_left = 100%\n") == "/etc/audit/auditd.conf:1: Percentages should be less than 100 - line 1")
        #expect(failure("max_log_file_action = exec\n") == "/etc/audit/auditd.conf:1: Option exec not found - line 1")
        #expect(failure("disk_full_action = email\n") == "/etc/audit/auditd.conf:1: Illegal option email for disk_full_action - line 1")
        #expect(failure("disk_error_action = rotate\n") == "/etc/audit/auditd.conf:1: Illegal option rotate for disk_error_action - line 1")
        #expect(failure("disk_full_action = exec\n") == "/etc/audit/auditd.conf:1: Executable path needed for line 1")
        #expect(failure("disk_full_action = exec bin/true\n") == "/etc/audit/auditd.conf:1: Absolute path needed for bin/true - line 1")
        #expect(failure("log_group = no-such-group-here\n")
            == "/etc/audit/auditd.conf:1: Group ID is non-numeric and unknown (no-such-group-here) - line 1")
        #expect(failure("log_file = /x/audit.log\n") == "/etc/audit/auditd.conf:1: The directory name: /x is too short - line 1")
        #expect(failure("tcp_listen_port = 70000\n") == "/etc/audit/auditd.conf:1: Error - converted number (70000) is too large - line 1")
        #expect(failure("tcp_client_ports = 2000-1000\n") == "/etc/audit/auditd.conf:1: Error - converted range (2000-1000) is reversed - line 1")
        #expect(failure("q_depth = 100000\n") == "/etc/audit/auditd.conf:1: q_depth must be 99999 or less")
        #expect(failure("action_mail_acct = root@localhost\n") == "/etc/audit/auditd.conf:1: email: root@localhost should have . after @")
    }

    @Test func listenerKeywordsAreTypedValues() throws {
        let (configuration, _) = try parse("""
            tcp_listen_port = 60
            tcp_listen_queue = 64
            tcp_max_per_addr = 3
            use_libwrap = no
            tcp_client_ports = 1024-65535
            tcp_client_max_idle = 30
            transport = tcp
            krb5_principal = auditd/central
            krb5_key_file = /etc/audit/audit.key
            distribute_network = yes

            """)
        let remote = configuration.remote
        #expect(remote.port == 60 && remote.listenQueue == 64 && remote.maxPerAddress == 3 && !remote.useLibwrap)
        #expect(remote.clientPorts == 1024...65535 && remote.clientMaxIdle == 30 && remote.transport == .tcp)
        #expect(remote.krb5Principal == "auditd/central" && remote.krb5KeyFile == "/etc/audit/audit.key")
        #expect(remote.distributeNetwork && remote.startupProblem == nil)
        #expect(try parse("tcp_client_ports = 60\n").0.remote.clientPorts == 60...60)
        #expect(try parse("enable_krb5 = yes\ntcp_listen_port = 60\n").0.remote.startupProblem?.contains("KRB5") == true)
        #expect(try parse("transport = KRB5\n").0.remote.transport == .krb5)
    }

    @Test func listenerKeywordsAreCheckedAsAuditdChecksThem() {
        #expect(failure("tcp_listen_port = 0\n") == "/etc/audit/auditd.conf:1: Error - converted number (0) is too small - line 1")
        #expect(failure("tcp_listen_queue = 65536\n") == "/etc/audit/auditd.conf:1: Error - converted number (65536) is too large - line 1")
        #expect(failure("tcp_max_per_addr = 1025\n") == "/etc/audit/auditd.conf:1: Error - converted number (1025) is too large - line 1")
        #expect(failure("tcp_max_per_addr = x\n") == "/etc/audit/auditd.conf:1: Value x should only be numbers - line 1")
        #expect(failure("tcp_client_ports = 1-70000\n") == "/etc/audit/auditd.conf:1: Error - converted number (70000) is too large - line 1")
        #expect(failure("tcp_client_ports = -5\n")
            == "/etc/audit/auditd.conf:1: Value -5 should only be numbers, or two numbers separated by a dash - line 1")
        #expect(failure("tcp_client_max_idle = 2147483648\n")
            == "/etc/audit/auditd.conf:1: Error - converted number (2147483648) is too large - line 1")
        #expect(failure("use_libwrap = maybe\n") == "/etc/audit/auditd.conf:1: Option maybe not found - line 1")
        #expect(failure("transport = udp\n") == "/etc/audit/auditd.conf:1: Option udp not found - line 1")
        #expect(failure("distribute_network = 1\n") == "/etc/audit/auditd.conf:1: Option 1 not found - line 1")
    }

    @Test func actionsWithAProgramAndPercentagesAreRead() throws {
        let (configuration, _) = try parse("""
            space_left = 25%
            space_left_action = exec /usr/bin/true
            admin_space_left = 10%
            admin_space_left_action = HALT
            disk_full_action = single
            log_group = 4
            """)
        #expect(configuration.spaceLeft == .percent(25) && configuration.adminSpaceLeft == .percent(10))
        #expect(configuration.spaceLeftAction == .exec("/usr/bin/true"))
        #expect(configuration.adminSpaceLeftAction == .halt && configuration.diskFullAction == .single)
        #expect(configuration.logGroup == 4)
    }

    @Test func newerKeywordsAndDeprecatedOnesAreAcceptedWithNotes() throws {
        let (_, notes) = try parse("dispatcher = /sbin/audispd\ndisp_qos = lossy\nreport_interval = 5h\ntls_auth = psk\nlog_format = nolog\n")
        #expect(notes.contains("The dispatcher option is deprecated - line 1"))
        #expect(notes.contains("The disp_qos option is deprecated - line 2"))
        #expect(notes.contains("The NOLOG option to log_format is deprecated. Please use the write_logs option."))
        #expect(notes.contains { $0.contains("report_interval (line 3), tls_auth (line 4)") })
        #expect(try parse("log_format = nolog\n").0.writeLogs == false)
    }

    // MARK: - sanity_check

    @Test func spaceLeftMustExceedAdminSpaceLeftWhenTheFileSetsThem() throws {
        #expect(failure("space_left = 50\nadmin_space_left = 75\n")
            == "/etc/audit/auditd.conf:2: Error - space_left(50) must be larger than admin_space_left(75)")
        #expect(failure("admin_space_left = 50\n")
            == "/etc/audit/auditd.conf:1: Error - space_left(0) must be larger than admin_space_left(50)")
        // Percentages are not compared, as in auditd.
        _ = try parse("space_left = 5%\nadmin_space_left = 75\n")
        // A minimal file that sets neither mark loads (auditd refuses it: both defaults are 0).
        #expect(try parse("log_file = /var/log/audit/audit.log\n").0.spaceLeft == .megabytes(0))
    }

    @Test func incrementalFlushingNeedsFreq() throws {
        #expect(failure("log_format = RAW\nflush = incremental\n")
            == "/etc/audit/auditd.conf:2: Error - incremental flushing chosen, but 0 selected for freq")
        let (_, notes) = try parse("flush = data\nfreq = 10\n")
        #expect(notes.contains("Warning - freq is non-zero and incremental flushing not selected."))
    }

    @Test func aLogGroupMayNotChgrpVarLog() {
        #expect(failure("log_file = /var/log/audit.log\nlog_group = adm\n").hasSuffix(
            "Error - log_file is directly in /var/log and chgrp will alter a system directory's permissions. Use another directory."))
    }
}
