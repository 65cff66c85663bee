/// What happens when the live log reaches `max_log_file` (`max_log_file_action` in auditd.conf).
public enum MaxLogFileAction: String, Sendable, Equatable, CaseIterable {
    /// Nothing.
    case ignore
    /// A diagnostic, once per file (auditd repeats it after every record).
    case syslog
    /// Close the file and stop writing until `resume()`.
    case suspend
    /// Rotate, keeping `num_logs` files in all.
    case rotate
    /// Rotate, shifting every rotated file up by one and deleting none.
    case keepLogs = "keep_logs"
}

/// When and how the live log is rotated: auditd's `max_log_file`, `max_log_file_action` and
/// `num_logs` (src/auditd-event.c: `check_log_file_size`, `rotate_logs`, `shift_logs`).
public struct RotationPolicy: Sendable, Equatable {
    public static let mebibyte: UInt64 = 1024 * 1024

    /// The size trigger in whole MiB. 0 means no size trigger (auditd 3.0.9 would run the action
    /// after every record, audit-userspace#234).
    public var maxLogFileMiB: UInt64
    public var action: MaxLogFileAction
    /// Files kept in all, the live one included. Below 2, `rotate` does nothing.
    public var numLogs: Int

    public init(maxLogFileMiB: UInt64 = 0, action: MaxLogFileAction = .ignore, numLogs: Int = 0) {
        self.maxLogFileMiB = maxLogFileMiB
        self.action = action
        self.numLogs = numLogs
    }

    /// The size in bytes at which the action runs, as auditd tests it: `size / 1 MiB >= max`.
    public var sizeLimit: UInt64? {
        guard maxLogFileMiB > 0, action != .ignore else { return nil }
        return maxLogFileMiB * Self.mebibyte
    }
}
