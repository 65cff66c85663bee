/// What the daemon says when it switched auditing on itself on a kernel booted without `audit=1`:
/// the processes already running are not audited until they restart.
///
/// The kernel gives a task its audit context when the task is created, and only once auditing has
/// been on at least once since boot (`audit_alloc` returns early while `audit_ever_enabled` is
/// false, kernel/auditsc.c). `audit=1` sets that flag at boot; without it the first
/// `AUDIT_SET enabled=1` does, and every task created before then has no context: no rule matches
/// its system calls until it is created again. Userspace cannot read `audit_ever_enabled`, so the
/// notice speaks of auditing being first switched on since boot rather than of this daemon.
public enum UnauditedProcessesNotice {
    /// The notice, or nil when there is nothing to say.
    /// - Parameters:
    ///   - foundEnabled: the kernel's `enabled` flag as the daemon found it.
    ///   - setEnabled: the flag the daemon set, or nil when it left it alone.
    ///   - commandLine: the kernel's boot command line; nil when it could not be read, and then
    ///     nothing is said (a guess would be wrong on a machine booted with `audit=1`).
    public static func text(foundEnabled: UInt32, setEnabled: UInt32?, commandLine: KernelCommandLine?) -> String? {
        guard foundEnabled == 0, setEnabled == 1, let commandLine, !commandLine.auditsFromBoot else { return nil }
        return """
            auditing was off (enabled=0) and this daemon switched it on; the kernel was not booted with \
            audit=1, so processes already running before auditing was first switched on since boot are not \
            audited until they restart (no rule matches their system calls); to audit every process from \
            boot, add audit=1 to the kernel command line
            """
    }
}
