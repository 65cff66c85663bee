/// What the kernel's boot command line says about auditing from boot.
public struct KernelCommandLine: Sendable {
    public let text: String

    public init(text: String) { self.text = text }

    /// Reads `/proc/cmdline`; nil when it cannot be read.
    public static func current() -> KernelCommandLine? {
        (try? AuditdConfiguration.readFile("/proc/cmdline")).flatMap { $0 }.map(KernelCommandLine.init)
    }

    /// Whether the kernel was booted with `audit=1` (or `audit=on`): auditing is on from boot, so
    /// every task gets an audit context when it is created (`audit_init` sets
    /// `audit_ever_enabled`, kernel/audit.c).
    public var auditsFromBoot: Bool {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains { $0 == "audit=1" || $0 == "audit=on" }
    }

    /// Whether the kernel holds records for a daemon that has not registered yet: only when booted
    /// with `audit=1` (`kauditd_hold_skb`, kernel/audit.c).
    public var holdsRecordsForDaemon: Bool { auditsFromBoot }
}
