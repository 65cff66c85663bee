/// The auditd.conf every test starts from: a log at `log/audit.log` in the test's directory, in
/// the format asked, and `num_logs` as Debian's auditd.conf ships it (with auditd's compiled
/// default, 0, SIGUSR1 does not rotate). `extra` adds or overrides keys (a later line wins).
public struct AuditdConf: Sendable {
    public var logPath: String
    public var format: String
    public var extra: String

    public init(in directory: TemporaryDirectory, format: String = "RAW", extra: String = "") {
        logPath = directory.appending("log/audit.log")
        self.format = format
        self.extra = extra
    }

    public var text: String { "log_file = \(logPath)\nlog_format = \(format)\nnum_logs = 5\n\(extra)" }

    /// Writes the file as `auditd.conf` in `directory` and returns the log's path.
    @discardableResult
    public func write(to directory: TemporaryDirectory) throws -> String {
        try directory.write(text, to: "auditd.conf")
        return logPath
    }
}
