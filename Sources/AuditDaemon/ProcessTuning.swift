import AuditSystem
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What auditd does to its own process before it registers (src/auditd.c: `main`): it must not be
/// the process the OOM killer picks, and it runs ahead of the processes it audits.
public enum ProcessTuning {
    /// Writes `-1000` to `/proc/self/oom_score_adj`: never chosen by the OOM killer. Needs
    /// `CAP_SYS_RESOURCE`; without it the daemon says so and goes on. Returns whether it worked.
    @discardableResult
    public static func protectFromOOMKiller(logger: Logger) -> Bool {
        let fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)
        var code = errno
        if fd >= 0 {
            let value = Array("-1000".utf8)
            let written = value.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            code = errno
            close(fd)
            if written == value.count { return true }
        }
        logger.warning("cannot set oom_score_adj to -1000: \(Errno(code).description); the OOM killer may pick the audit daemon")
        return false
    }

    /// `nice(-boost)`, as auditd's `priority_boost` (default 4). auditd exits 1 when it cannot;
    /// swift-auditd says so and goes on, since the records matter more than the priority.
    /// Returns the nice value in effect.
    @discardableResult
    public static func boostPriority(by boost: Int32, logger: Logger) -> Int32 {
        guard boost > 0 else { return currentNice() }
        errno = 0
        let result = nice(-boost)
        if result == -1, errno != 0 {
            logger.warning("cannot raise the daemon's priority (priority_boost \(boost)): \(Errno(errno).description)")
        }
        return currentNice()
    }

    /// The process's nice value.
    public static func currentNice() -> Int32 {
        errno = 0
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }
}

/// The process's effective capabilities, from `/proc/self/status` (`CapEff`).
public enum ProcessCapabilities {
    /// `CAP_AUDIT_CONTROL`: register, enable, ask `AUDIT_SIGNAL_INFO`.
    public static let auditControl = 30
    /// `CAP_AUDIT_READ`: join the read-only multicast group.
    public static let auditRead = 37

    /// Whether capability `number` is effective; true when the set cannot be read (the kernel
    /// will then say no itself).
    public static func has(_ number: Int) -> Bool {
        guard let line = (try? AuditdConfiguration.readFile("/proc/self/status"))??
                .split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" }), radix: 16)
        else { return true }
        return mask & (1 << UInt64(number)) != 0
    }
}
