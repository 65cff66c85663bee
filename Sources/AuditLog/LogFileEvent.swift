/// Something the writer did or met that an administrator should hear about: a rotation, a
/// suspension, a disk alert. The daemon turns these into diagnostics (swift-log); tests read them.
///
/// Messages are auditd's own texts where auditd has one (src/auditd-event.c), so an administrator
/// searching the journal for them finds them.
public struct LogFileEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The live file was rotated (or shifted, with keep_logs).
        case rotated
        /// A rotation was asked for but `num_logs` < 2.
        case rotationSkipped
        /// The live file reached `max_log_file` (the action follows as its own event).
        case sizeLimitReached
        /// Writing stopped: the file is closed until `resume()`.
        case suspended
        /// Writing started again after `resume()`.
        case resumed
        /// Free space fell below `space_left` (`admin` false) or `admin_space_left` (true).
        case spaceLow(admin: Bool)
        /// The disk is full (ENOSPC, or fewer than 5 free blocks).
        case diskFull
        /// Writing works again after the disk was full or failing.
        case diskRecovered
        /// A write, sync, rename or open failed with another error.
        case diskError
        /// An `exec` action started a program.
        case executed(String)
        /// A `single` or `halt` action asked init for a run level.
        case runlevelChanged(Runlevel)
        /// A rotated file past `num_logs` was deleted at start or reload.
        case excessLogRemoved(String)
        /// Anything else worth a line: a permission that could not be fixed, an unsupported action.
        case warning
    }

    public enum Severity: Sendable, Equatable, Comparable {
        case info, notice, warning, error, critical
    }

    public var kind: Kind
    public var severity: Severity
    public var message: String

    public init(_ kind: Kind, _ severity: Severity, _ message: String) {
        self.kind = kind
        self.severity = severity
        self.message = message
    }

    public var description: String { message }
}
