/// How records are written (`log_format` in auditd.conf).
public enum LogFormat: String, Sendable, CaseIterable {
    /// The kernel's text, as it came.
    case raw
    /// The kernel's text, then interpreted fields after a 0x1D separator.
    case enriched
}
