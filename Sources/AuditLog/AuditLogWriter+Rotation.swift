import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Rotation as auditd does it (src/auditd-event.c: `check_log_file_size`, `rotate_logs`,
/// `shift_logs`, `check_excess_logs`).
extension AuditLogWriter {
    func checkSize() {
        guard suspension == nil, let limit = settings.rotation.sizeLimit, fileSize >= limit else { return }
        switch settings.rotation.action {
        case .ignore:
            break
        case .syslog:
            if !sizeReported {
                sizeReported = true
                emit(.sizeLimitReached, .error, "Audit daemon log file is larger than max size")
            }
        case .suspend:
            emit(.sizeLimitReached, .error, "\(path) reached max_log_file (\(settings.rotation.maxLogFileMiB) MiB)")
            suspend("Audit daemon is suspending logging due to logfile size.")
        case .rotate:
            if settings.rotation.numLogs > 1 {
                emit(.sizeLimitReached, .notice, "Audit daemon rotating log files")
                rotateLogs(reason: "max_log_file reached")
            } else if !sizeReported {
                sizeReported = true
                emit(.sizeLimitReached, .warning, "\(path) reached max_log_file but num_logs is below 2: not rotating")
            }
        case .keepLogs:
            emit(.sizeLimitReached, .notice, "Audit daemon rotating log files with keep option")
            shiftLogs(reason: "max_log_file reached")
        }
    }

    /// Keeps `num_logs` files: `.n-2→.n-1` … `.1→.2`, then `log→.1`. Only the run of rotated
    /// files without a gap is shifted, so the numbering stays contiguous even when a file in the
    /// middle was deleted by hand (auditd would leave the gap, and ausearch stops at it).
    func rotateLogs(reason: String) {
        guard settings.rotation.numLogs >= 2 else {
            emit(.rotationSkipped, .notice, "Log rotation disabled (num_logs < 2), skipping")
            return
        }
        let existing = files.contiguousCount()
        rotateFiles(top: min(settings.rotation.numLogs - 1, existing + 1), reason: reason)
    }

    /// keep_logs: every rotated file moves up by one and none is deleted.
    func shiftLogs(reason: String) {
        let existing = files.contiguousCount(knownAtLeast: lastShifted)
        if lastShifted > 1, existing < lastShifted {
            emit(.warning, .warning, "Last known log disappeared (\(files.name(lastShifted)))")
        }
        rotateFiles(top: existing + 1, reason: reason)
        lastShifted = existing + 1
    }

    /// The rotation itself: the live file is made read-only (0400/0440) while still open, closed,
    /// the rotated files shift up to `top`, the live file becomes `.1`, and a new live file is
    /// created with `O_EXCL`.
    func rotateFiles(top: Int, reason: String) {
        let wasOpen = file != nil
        if let rotating = file {
            cutTornLine()
            if settings.flush != .none, let error = rotating.sync() {
                emit(.warning, .warning, "cannot sync \(path) before rotating it: \(error)")
            }
            for problem in rotating.makeReadOnly(mode: settings.rotatedMode, group: settings.readerGroup) {
                emit(.warning, .warning, problem)
            }
            rotating.close()
            file = nil
        } else {
            makeReadOnlyByName(path)
        }
        if let failure = files.shiftRotated(upTo: top) {
            emit(.diskError, .error, "Error rotating logs from \(failure.from) to \(failure.to) (\(Errno(failure.error.errno).description))")
            if failure.error.errno == ENOSPC { diskFullReached() } else { diskError("rotate", failure.error.errno) }
        }
        let first = files.name(1)
        if rename(path, first) != 0, errno != ENOENT {
            let code = errno
            emit(.diskError, .error, "Error rotating logs from \(path) to \(first) (\(Errno(code).description))")
            if code == ENOSPC { diskFullReached() } else { diskError("rotate2", code) }
            _ = chmod(path, settings.liveMode)
        }
        rotations += 1
        emit(.rotated, .notice, "rotated \(path) (\(reason))")
        guard wasOpen, suspension == nil else { return }
        do {
            try openLog()
        } catch {
            suspension = .suspended(reason: "Could not reopen a log after rotating.")
            emit(.diskError, .critical, "Could not reopen a log after rotating: \(error)")
            diskError("reopen", error.errno ?? EIO)
        }
    }

    func makeReadOnlyByName(_ name: String) {
        let fd = Glibc.open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
            _ = fchmod(fd, settings.rotatedMode)
        }
    }

    /// Deletes rotated files numbered `num_logs` and up, at start and when a reload changes the
    /// disk-space settings; only with `max_log_file_action = rotate`, as auditd.
    func removeExcessLogs() {
        guard settings.rotation.action == .rotate, settings.rotation.numLogs >= 2 else { return }
        for name in files.removeExcess(numLogs: settings.rotation.numLogs) {
            emit(.excessLogRemoved(name), .notice, "Log \(name) removed as it exceeds num_logs parameter")
        }
    }
}
