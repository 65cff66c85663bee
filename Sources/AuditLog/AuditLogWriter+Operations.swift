import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What signals ask of the writer through the daemon: rotate now, resume after a suspension,
/// apply a reloaded configuration.
extension AuditLogWriter {
    /// Rotates now (SIGUSR1, `auditctl --signal rotate`): what is buffered is written to the
    /// current file first. With `keep_logs` every rotated file shifts up, otherwise `num_logs`
    /// files are kept (auditd: `rotate_logs_now`).
    public func rotate(reason: String) {
        guard settings.writeLogs else { return }
        _ = try? flush()
        if settings.rotation.action == .keepLogs {
            shiftLogs(reason: reason)
        } else {
            rotateLogs(reason: reason)
        }
    }

    /// Starts writing again after a suspension (SIGUSR2): every disk flag is cleared, the log is
    /// reopened (created again if it was moved away) and its size checked (auditd:
    /// `resume_logging`). Buffered records are written.
    public func resume() {
        guard settings.writeLogs else { return }
        emit(.warning, .notice, "Audit daemon is attempting to resume logging.")
        spaceMarks.rearm()
        failing = false
        diskErrorWarnings = 0
        sizeReported = false
        if file == nil {
            repairPermissions()
            do {
                try openLog()
            } catch {
                suspension = .suspended(reason: "Could not reopen a log after resume logging")
                emit(.diskError, .critical, "Could not reopen a log after resume logging: \(error)")
                diskError("resume", error.errno ?? EIO)
                return
            }
            checkSize()
        }
        guard suspension == nil else { return }
        emit(.resumed, .notice, "Audit daemon resumed logging.")
        _ = try? flush()
    }

    /// Applies a reloaded configuration as auditd's SIGHUP does (src/auditd-reconfigure.c):
    /// `write_logs`, `log_group`, `flush` or `log_file` reopen the log; `max_log_file*` trigger a
    /// size check; the disk-space settings clear the "action done" flags, remove excess logs and
    /// trigger a space check. What is buffered is written under the old settings first.
    public func apply(_ new: LogSettings) {
        _ = try? flush()
        let old = settings
        settings = new
        if old.freq != new.freq || old.flush != new.flush { resetSyncSchedule() }
        configureBackgroundSync()
        if old.writeLogs != new.writeLogs || old.group != new.group || old.flush != new.flush || old.path != new.path {
            closeLog()
            if new.writeLogs {
                repairPermissions()
                do {
                    try openLog()
                } catch {
                    suspension = .suspended(reason: "Could not reopen a log after reconfigure")
                    emit(.diskError, .critical, "Could not reopen a log after reconfigure: \(error)")
                    diskError("reconfig", error.errno ?? EIO)
                    return
                }
            } else {
                suspension = .notLogging
                return
            }
        }
        guard suspension == nil else { return }
        if old.rotation != new.rotation {
            sizeReported = false
            checkSize()
        }
        if old.space != new.space {
            spaceMarks.rearm()
            removeExcessLogs()
            checkSpace(now: MonotonicClock.milliseconds())
        }
    }
}
