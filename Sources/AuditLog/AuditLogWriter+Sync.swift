import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// `flush = incremental` and `incremental_async`: one sync after the write that carries the count
/// of records written past a multiple of `freq` (inline, or on the sync thread).
extension AuditLogWriter {
    func resetSyncSchedule() {
        syncSchedule = SyncSchedule(freq: settings.freq, recordsWritten: recordsWritten)
    }

    /// After the write that carries the record count past a multiple of `freq`, one sync.
    func syncIfDue() {
        guard settings.flush.isIncremental, syncSchedule.takeDue(recordsWritten: recordsWritten) else { return }
        syncsRequested += 1
        guard let file else { return }
        if settings.flush == .incremental {
            if let error = file.sync() { diskError("fsync", error.errno) }
        } else {
            backgroundSync?.request(file.descriptor)
        }
    }

    func configureBackgroundSync() {
        if settings.flush == .incrementalAsync {
            if backgroundSync == nil { backgroundSync = BackgroundSync() }
        } else if let running = backgroundSync {
            running.stop()
            backgroundSync = nil
        }
    }

    func reportBackgroundSyncError() {
        if let code = backgroundSync?.takeError() { diskError("fsync", code) }
    }
}

/// When `flush = incremental(_async)` syncs: after the write that carries the count of records
/// written past a multiple of `freq` (auditd syncs every `freq` records; records are written in
/// batches here, so a batch that crosses the multiple gets one sync, never more).
struct SyncSchedule: Equatable {
    let freq: UInt64
    /// The record count whose write is followed by a sync; `.max` for never (`freq = 0`).
    private(set) var nextAt: UInt64

    init(freq: Int, recordsWritten: UInt64) {
        self.freq = UInt64(max(freq, 0))
        nextAt = self.freq == 0 ? .max : (recordsWritten / self.freq + 1) * self.freq
    }

    /// Whether a sync is due now that `recordsWritten` are on disk; if so, the next is scheduled.
    mutating func takeDue(recordsWritten: UInt64) -> Bool {
        guard recordsWritten >= nextAt else { return false }
        self = SyncSchedule(freq: Int(freq), recordsWritten: recordsWritten)
        return true
    }
}
