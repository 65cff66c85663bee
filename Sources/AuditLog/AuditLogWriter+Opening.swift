import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Opening, reopening and closing the live log (the descriptor itself is `OpenLogFile`'s).
extension AuditLogWriter {
    func openLog() throws(AuditLogError) {
        let opened = try OpenLogFile(path: settings.path, mode: settings.liveMode, group: settings.readerGroup,
                                     sync: LogFile.SyncFlags(settings.flush))
        file = opened
        fileSize = opened.sizeAtOpen
        sizeReported = false
        suspension = nil
    }

    /// A log removed while open (the file, or its directory) still takes writes, and no write
    /// fails, but no reader will ever see them. One `fstat` before each write finds it unlinked,
    /// and the writer opens a new file in its place (making the directory again), so the records
    /// go where readers look. A reopen that fails is a disk error.
    func reopenIfRemoved() throws(AuditLogError) {
        guard let removed = file, removed.isRemoved else { return }
        removed.close()
        file = nil
        do {
            try openLog()
            emit(.warning, .error, "\(path) was removed while open; writing to a new file in its place")
        } catch {
            failing = true
            diskError("open", error.errno ?? EIO)
            throw error
        }
    }

    func closeLog() {
        guard let closing = file else { return }
        cutTornLine()
        if settings.flush != .none, let error = closing.sync() {
            emit(.warning, .warning, "cannot sync \(path) before closing it: \(error)")
        }
        closing.close()
        file = nil
    }

    /// Stops writing until `resume()`. Buffered records are kept and written after it.
    func suspend(_ message: String) {
        closeLog()
        suspension = .suspended(reason: message)
        emit(.suspended, .critical, message)
    }

    /// Sets rotated files to 0400/0440 and the reader group (auditd's `fix_disk_permissions`).
    func repairPermissions() {
        let failed = files.repairRotated(below: max(settings.rotation.numLogs, 2), mode: settings.rotatedMode,
                                         group: settings.readerGroup)
        for name in failed {
            emit(.warning, .warning, "cannot set the permissions of rotated log \(name); it is not a regular file owned by root")
        }
    }
}
