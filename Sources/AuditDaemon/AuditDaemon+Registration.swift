import AuditSystem
import AuditLog
import AuditNetlink
import AuditProtocol
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Becoming the kernel's audit daemon: `AUDIT_GET`, the `-s` choice, `AUDIT_SET pid`, and what a
/// refusal writes (`DAEMON_ABORT`) and says.
extension AuditDaemon {
    /// `AUDIT_GET`, the `-s` choice, then `AUDIT_SET pid` with its ACK. Every record that arrives
    /// from here on is written; none is read and thrown away (auditd 3.0.9 discards one).
    func register() throws(StartFailure) -> AuditStatus {
        var status: AuditStatus
        do {
            status = try loop.status()
        } catch {
            throw StartFailure(.setEnable, kernelError(error, doing: "ask the kernel for its audit status (AUDIT_GET)"))
        }
        do {
            try applyStartupState(to: &status)
        } catch {
            throw StartFailure(.setEnable, error)
        }
        do {
            try registerPID(status: status)
        } catch {
            throw StartFailure(.setPID, error)
        }
        return status
    }

    /// A start that failed at the kernel: what failed, for `DAEMON_ABORT`, and the error.
    struct StartFailure: Error {
        let operation: DaemonRecord.AbortOperation
        let error: AuditDaemonError
        init(_ operation: DaemonRecord.AbortOperation, _ error: AuditDaemonError) {
            self.operation = operation
            self.error = error
        }
    }

    /// Writes `DAEMON_ABORT` and syncs, before the error ends the process (auditd's order).
    func abort(_ failure: StartFailure) {
        write(.abort(failure.operation, identity: identity))
        do {
            try loop.writer.flushAndSync()
        } catch {
            logger.error("could not write DAEMON_ABORT to the log", metadata: ["error": "\(error)"])
        }
    }

    private func registerPID(status: AuditStatus) throws(AuditDaemonError) {
        let registeredAt = WallClock.milliseconds()
        loop.startCountingHeldBacklog(pid: processID, registeredAt: registeredAt)
        do {
            try loop.set(AuditStatus(mask: .pid, pid: processID))
        } catch {
            if case let .refused(_, code) = error, code == EEXIST {
                let holder = (try? loop.status())?.pid ?? status.pid
                throw AuditDaemonError(
                    .startFailure,
                    "another audit daemon is registered with the kernel: pid \(holder)\(Self.commandName(of: holder)); "
                        + "stop it first (swift-auditd never takes over a live daemon), or run with --multicast beside it")
            }
            throw kernelError(error, doing: "register as the audit daemon (AUDIT_SET pid)")
        }
        logger.notice("registered with the kernel as its audit daemon",
                      metadata: ["pid": "\(processID)", "enabled": "\(status.enabled)",
                                 "backlog_limit": "\(status.backlogLimit)", "lost": "\(status.lost)"])
        if let commandLine = kernelCommandLine, !commandLine.holdsRecordsForDaemon {
            logger.notice("""
                the kernel was not booted with audit=1, so it held no records for a daemon before this one \
                registered; to keep the records of early boot, add 'audit=1 audit_backlog_limit=8192' to the \
                kernel command line
                """)
        } else if status.lost > 0 {
            reportLostBeforeRegistration(status)
        }
    }

    /// The kernel's `lost` counter is the only trace of an overflow of its hold queue: the console
    /// message is rate-limited (`audit_log_lost`, kernel/audit.c), so say it here, with the number.
    private func reportLostBeforeRegistration(_ status: AuditStatus) {
        let metadata: Logger.Metadata = ["lost": "\(status.lost)", "backlog_limit": "\(status.backlogLimit)"]
        if kernelCommandLine?.holdsRecordsForDaemon == true {
            logger.warning("""
                the kernel's hold queue overflowed before registration: the kernel lost \(status.lost) records \
                (it holds at most audit_backlog_limit=\(status.backlogLimit) for a daemon that has not started); \
                to keep them all, add audit_backlog_limit=8192 to the kernel command line
                """, metadata: metadata)
        } else {
            logger.warning("""
                the kernel lost \(status.lost) records before this daemon registered (its lost counter since boot); \
                a larger audit_backlog_limit (now \(status.backlogLimit)) keeps more
                """, metadata: metadata)
        }
    }

    private func applyStartupState(to status: inout AuditStatus) throws(AuditDaemonError) {
        let wanted: UInt32
        switch options.startupState {
        case .nochange: return
        case .enable: wanted = 1
        case .disable: wanted = 0
        }
        if status.enabled == 2 {
            logger.notice("auditing is locked (enabled=2) until reboot; leaving it as it is")
            return
        }
        guard status.enabled != wanted else { return }
        do {
            try loop.set(AuditStatus(mask: .enabled, enabled: wanted))
        } catch {
            throw kernelError(error, doing: "set the kernel's audit enabled flag to \(wanted) (AUDIT_SET enabled)")
        }
        if let notice = UnauditedProcessesNotice.text(foundEnabled: status.enabled, setEnabled: wanted,
                                                      commandLine: kernelCommandLine) {
            logger.warning("\(notice)")
        }
        status.enabled = wanted
    }

    private func kernelError(_ error: AuditClientError, doing what: String) -> AuditDaemonError {
        if case let .refused(_, code) = error {
            switch code {
            case EPERM, EACCES:
                return AuditDaemonError(
                    .insufficientPrivilege,
                    "not allowed to \(what): an audit daemon needs root (CAP_AUDIT_CONTROL) in the initial pid namespace",
                    cause: error)
            case ECONNREFUSED:
                return AuditDaemonError(
                    .insufficientPrivilege,
                    "the kernel refuses audit requests from this user namespace; an audit daemon must run in the initial namespaces",
                    cause: error)
            default:
                break
            }
        }
        return AuditDaemonError(.startFailure, "cannot \(what)", cause: error)
    }
}
