import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The disk actions (auditd: `check_space_left`, `do_space_left_action`, `do_disk_full_action`,
/// `do_disk_error_action`): `DiskSpaceMarks` decides from a free-space sample, these carry out
/// what it and a failed write ask for.
extension AuditLogWriter {
    enum Trigger {
        case spaceLeft, adminSpaceLeft, diskFull, diskError(String, Int32)
    }

    /// Samples free space on the log's file system (`fstatvfs`, the POSIX face of auditd's
    /// `fstatfs`: the same `f_bavail`) and runs what `DiskSpaceMarks` decides.
    func checkSpace(now: Int64) {
        lastSpaceCheck = now
        guard let sample = file?.spaceSample() else { return }
        for decision in spaceMarks.check(sample, policy: settings.space, writesFailing: failing) {
            switch decision {
            case .diskFull: ranOutOfSpace()
            case .recovered: emit(.diskRecovered, .notice, "Audit daemon has space on the logging partition again")
            case .spaceLeft: run(settings.space.spaceLeftAction, for: .spaceLeft)
            }
        }
        // The space_left action may have stopped the writing (suspend, exec).
        guard suspension == nil else { return }
        if spaceMarks.adminSpaceLeftCrossed(sample, policy: settings.space) {
            run(settings.space.adminSpaceLeftAction, for: .adminSpaceLeft)
        }
    }

    /// A write or rotation failed with `ENOSPC`.
    func diskFullReached() {
        if spaceMarks.diskFullReached() { ranOutOfSpace() }
    }

    /// The disk just filled: said once, and `disk_full_action` run once, until space returns.
    func ranOutOfSpace() {
        emit(.diskFull, .critical, "Audit daemon has no space left on logging partition")
        run(settings.space.diskFullAction, for: .diskFull)
    }

    func diskError(_ operation: String, _ code: Int32) {
        let action = settings.space.diskErrorAction
        // `syslog` says it itself (at most five times); every other action but `ignore` refers to
        // "the previously mentioned write error", so mention it, once per run of failures.
        if action != .syslog, action != .ignore, !diskErrorMentioned {
            diskErrorMentioned = true
            emit(.diskError, .error, "\(operation) failed on \(path): \(Errno(code).description) (errno \(code))")
        }
        run(action, for: .diskError(operation, code))
    }

    func run(_ action: DiskAction, for trigger: Trigger) {
        switch action {
        case .ignore:
            break
        case .syslog:
            alert(for: trigger)
        case .email:
            alert(for: trigger)
            emit(.warning, .warning, "an email action is configured, but swift-auditd sends no mail; the alert above is all there is")
        case .rotate:
            if settings.rotation.numLogs > 1 {
                emit(.warning, .notice, "Audit daemon rotating log files")
                rotateLogs(reason: "disk space action")
            }
        case let .exec(program):
            // Close the log first: the program may move or compress it. resume() reopens.
            closeLog()
            suspension = .suspended(reason: "exec \(program)")
            emit(.executed(program), .critical, "running \(program) for \(describe(trigger)); logging is suspended until resumed")
            systemActions.run(executable: program)
        case .suspend:
            suspend(suspendMessage(for: trigger))
        case .single:
            emit(.runlevelChanged(.single), .critical,
                 "The audit daemon is now changing the system to single user mode\(runlevelSuffix(for: trigger))")
            systemActions.changeRunlevel(.single)
        case .halt:
            emit(.runlevelChanged(.halt), .critical, "The audit daemon is now halting the system\(runlevelSuffix(for: trigger))")
            systemActions.changeRunlevel(.halt)
        }
    }

    func alert(for trigger: Trigger) {
        switch trigger {
        case .spaceLeft:
            emit(.spaceLow(admin: false), .critical, "Audit daemon is low on disk space for logging")
        case .adminSpaceLeft:
            emit(.spaceLow(admin: true), .critical, "Audit daemon is very low on disk space for logging")
        case .diskFull:
            break  // "no space left" was said when the disk filled
        case let .diskError(operation, code):
            guard diskErrorWarnings < 5 else { return }
            diskErrorWarnings += 1
            emit(.diskError, .critical,
                 "\(operation): Audit daemon detected an error writing an event to disk (\(Errno(code).description))")
        }
    }

    func describe(_ trigger: Trigger) -> String {
        switch trigger {
        case .spaceLeft: "space_left"
        case .adminSpaceLeft: "admin_space_left"
        case .diskFull: "a full disk"
        case let .diskError(operation, code): "a disk error (\(operation): \(Errno(code).description))"
        }
    }

    func suspendMessage(for trigger: Trigger) -> String {
        switch trigger {
        case .spaceLeft, .adminSpaceLeft: "Audit daemon is suspending logging due to low disk space."
        case .diskFull: "Audit daemon is suspending logging due to no space left on logging partition."
        case .diskError: "Audit daemon is suspending logging due to previously mentioned write error"
        }
    }

    func runlevelSuffix(for trigger: Trigger) -> String {
        switch trigger {
        case .spaceLeft, .adminSpaceLeft: ""
        case .diskFull: " due to no space left on logging partition"
        case .diskError: " due to previously mentioned write error"
        }
    }
}
