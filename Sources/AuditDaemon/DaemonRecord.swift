import AuditLog
import AuditProtocol

/// A record the daemon writes itself: its type and the text after `audit(S.mmm:N): `.
///
/// The texts are auditd's, byte for byte (`src/auditd.c`, `src/auditd-reconfigure.c`, and
/// `audit_format_signal_info` in `lib/libaudit.c`, as Debian's auditd 3.0.9 and libaudit1 write
/// them), so `ausearch -m DAEMON_START` and `aureport` read swift-auditd's log as auditd's. They go
/// through the same writer and formatter as the kernel's records.
public struct DaemonRecord: Sendable, Hashable, CustomStringConvertible {
    public var type: AuditMessageType
    public var text: String

    public init(_ type: AuditMessageType, _ text: String) {
        self.type = type
        self.text = text
    }

    public var description: String { "\(MessageTypeNames.name(of: type)) \(text)" }

    // MARK: - Start and abort: the daemon's own identity

    /// `DAEMON_START`, written once the log is open and before the kernel hears of the daemon.
    /// `format` is `raw`, `enriched` or `nolog`; `kernel` is `uname -r` (auditd keeps 56 bytes).
    public static func start(version: String, format: String, kernel: String, identity: ProcessIdentity) -> DaemonRecord {
        DaemonRecord(.daemonStart, "op=start ver=\(version) format=\(format) kernel=\(prefix(kernel, bytes: 56)) "
            + "\(identity.fields)\(identity.subjectField) res=success")
    }

    /// What failed at start, as auditd names it in `DAEMON_ABORT`.
    public enum AbortOperation: String, Sendable {
        /// Setting the kernel's `enabled` flag (or asking for it) failed.
        case setEnable = "set-enable"
        /// The registration (`AUDIT_SET pid`) was refused.
        case setPID = "set-pid"
    }

    /// `DAEMON_ABORT`, written to the log before the daemon exits 1.
    public static func abort(_ operation: AbortOperation, identity: ProcessIdentity) -> DaemonRecord {
        DaemonRecord(.daemonAbort, "op=\(operation.rawValue) \(identity.fields)\(identity.subjectField) res=failed")
    }

    // MARK: - Signals: who asked, as the kernel reported it

    /// `DAEMON_END` after a stop. Without a sender (the kernel did not answer) auditd's fallback.
    public static func end(sender: SignalSender?) -> DaemonRecord {
        DaemonRecord(.daemonEnd, sender?.text(operation: "terminate", result: "success")
            ?? "op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success")
    }

    /// `DAEMON_CONFIG` after a reload that was applied. auditd's text here has no `uid` or `ses`
    /// and always a `subj` (`?` without a security context).
    public static func reconfigured(sender: SignalSender) -> DaemonRecord {
        DaemonRecord(.daemonConfig, "op=reconfigure state=changed auid=\(sender.auid) pid=\(sender.pid) "
            + "subj=\(sender.context ?? "?") res=success")
    }

    /// `DAEMON_CONFIG` after a reload that was refused: the old configuration stays. Without a
    /// sender the reload is not even tried, as auditd.
    public static func reconfigurationFailed(sender: SignalSender?) -> DaemonRecord {
        DaemonRecord(.daemonConfig, sender?.text(operation: "reconfigure state=no-change", result: "failed")
            ?? "op=reconfigure state=no-change auid=-1 pid=-1 subj=? res=failed")
    }

    /// `DAEMON_ROTATE`, the first line of the new file. auditd rotates even when the kernel
    /// does not say who asked, and then writes `res=failed`.
    public static func rotated(sender: SignalSender?) -> DaemonRecord {
        DaemonRecord(.daemonRotate, sender?.text(operation: "rotate-logs", result: "success")
            ?? "op=rotate-logs auid=-1 pid=-1 subj=? res=failed")
    }

    /// `DAEMON_RESUME` after logging resumed.
    public static func resumed(sender: SignalSender?) -> DaemonRecord {
        DaemonRecord(.daemonResume, sender?.text(operation: "resume-logging", result: "success")
            ?? "op=resume-logging auid=-1 pid=-1 subj=? res=success")
    }

    /// At most `bytes` UTF-8 bytes of `text`, as `%.56s` keeps (never splitting a character).
    static func prefix(_ text: String, bytes: Int) -> String {
        var count = 0
        var end = text.startIndex
        for character in text {
            count += character.utf8.count
            if count > bytes { break }
            end = text.index(after: end)
        }
        return String(text[..<end])
    }
}
