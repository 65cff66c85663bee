import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Appends records to the audit log as auditd's lines (RAW or ENRICHED), in batches, and keeps the log files the
/// way auditd does: rotation, flush modes, permissions, disk-space actions.
///
/// Lines are formatted into one buffer and written with one `write(2)` when it fills or when the
/// daemon asks (the socket went quiet, or the batch window closed). After each write the writer
/// does what auditd does after each record (src/auditd-event.c: `write_to_log`,
/// `check_log_file_size`, `check_space_left`): sync every `freq` records, act on `max_log_file`,
/// and sample free space, at most once per `DiskSpacePolicy.checkIntervalMilliseconds`.
///
/// Nothing is lost silently: a write that fails keeps its bytes in the buffer for the next
/// `flush()`; a write the disk cuts short in the middle of a line is cut back to the last whole
/// line (`ftruncate`), so the file never ends in half a record; a record is dropped only when the
/// buffer is full of bytes the disk will not take, and records that arrive while logging is
/// suspended are counted.
///
/// Not thread-safe: one thread (the daemon's record loop) uses it. Only `incremental_async`
/// syncs run on a thread of their own.
public final class AuditLogWriter {
    public static let defaultBufferSize = 256 * 1024

    /// Why the writer is not writing.
    public enum Suspension: Sendable, Equatable {
        /// `write_logs = no`.
        case notLogging
        /// A `suspend` or `exec` action, a failed reopen, or `max_log_file_action = suspend`.
        case suspended(reason: String)
    }

    public private(set) var settings: LogSettings
    public var path: String { settings.path }
    /// The line format; `setFormat(_:enricher:)` changes it between batches (a reload).
    public private(set) var format: LogFormat
    /// The RAW part of each line (`node=` prefix, type name, payload). A reload may replace it.
    public var formatter: RecordFormatter {
        didSet { formatterBox = FormatterBox(formatter) }
    }
    /// Adds the ENRICHED part behind each RAW line; nil for RAW.
    public private(set) var enricher: RecordEnricher? {
        didSet { enricherReference = enricher.map { Unmanaged.passUnretained($0) } }
    }
    /// What `append` reads `formatter` and `enricher` through, without retaining them per record:
    /// read from a class property, the formatter's struct was copied (three retains and releases
    /// of its tables per record) and the enricher retained. The properties above keep both alive.
    private var formatterBox: FormatterBox
    private var enricherReference: Unmanaged<RecordEnricher>?
    /// The live log and its rotated files.
    public var files: LogFileSet { LogFileSet(path: settings.path) }
    /// nil while writing.
    public private(set) var suspension: Suspension?

    /// The live log; nil while it is closed (suspended, not logging, or between a close and a reopen).
    private var file: OpenLogFile?
    private let buffer: OutputBuffer
    private let systemActions: any SystemActions
    private let onEvent: (LogFileEvent) -> Void
    private var backgroundSync: BackgroundSync?

    /// Records formatted into the buffer and not yet written.
    private var bufferedRecords: UInt64 = 0
    /// Bytes at the front of the buffer already on disk: a line a short write cut in two.
    private var writtenPrefix = 0
    /// Lines written to the file by this writer.
    public private(set) var recordsWritten: UInt64 = 0
    /// Records that could not be written: the buffer was full of bytes the disk would not take.
    public private(set) var recordsDropped: UInt64 = 0
    /// Records not written because logging was suspended or `write_logs = no`.
    public private(set) var recordsNotLogged: UInt64 = 0
    /// The size of the live file, kept in memory as auditd does (set at open, 0 for a new file).
    public private(set) var fileSize: UInt64 = 0
    /// Rotations done (size, request or disk action).
    public private(set) var rotations: UInt64 = 0
    /// Lines a full disk took only part of, cut back off the file to be written whole later.
    public private(set) var tornLinesCutBack: UInt64 = 0
    /// Syncs done inline (`incremental`) or handed to the sync thread (`incremental_async`).
    public private(set) var syncsRequested: UInt64 = 0
    /// Syncs the `incremental_async` thread has finished.
    public var backgroundSyncsCompleted: UInt64 { backgroundSync?.completed.load(ordering: .relaxed) ?? 0 }

    // auditd's state flags (`fs_space_left`, `fs_space_warning`, `fs_admin_space_warning`,
    // `disk_err_warning`), cleared by `resume()`.
    private var spaceMarks = DiskSpaceMarks()
    private var diskErrorWarnings = 0
    /// Whether the error behind the current run of failures was reported (for actions other than syslog).
    private var diskErrorMentioned = false
    /// The last write failed; the next one that works is reported.
    private var failing = false
    /// The size limit was reported for this file (syslog action).
    private var sizeReported = false
    private var lastSpaceCheck: Int64 = .min
    private var nextSyncAt: UInt64 = 0
    /// The last rotated file known to exist (keep_logs), auditd's `last_log`.
    private var lastShifted = 0

    /// Opens (or creates) the log as auditd does at start: permissions repaired, file opened,
    /// then the size checked, excess rotated files removed and free space sampled.
    /// - Parameter enricher: what writes the ENRICHED part when `format` is `.enriched`; by default
    ///   one that asks the system's account databases.
    public init(settings: LogSettings, format: LogFormat = .raw, formatter: RecordFormatter = RecordFormatter(),
                enricher: RecordEnricher? = nil, bufferSize: Int = defaultBufferSize, systemActions: any SystemActions,
                onEvent: @escaping (LogFileEvent) -> Void = { _ in }) throws(AuditLogError) {
        self.settings = settings
        self.format = format
        self.formatter = formatter
        formatterBox = FormatterBox(formatter)
        let enricher = format == .enriched ? enricher ?? RecordEnricher() : nil
        self.enricher = enricher
        enricherReference = enricher.map { Unmanaged.passUnretained($0) }
        self.systemActions = systemActions
        self.onEvent = onEvent
        buffer = OutputBuffer(capacity: bufferSize)
        resetSyncSchedule()
        configureBackgroundSync()
        guard settings.writeLogs else {
            suspension = .notLogging
            return
        }
        repairPermissions()
        try openLog()
        checkSize()
        removeExcessLogs()
        checkSpace(now: MonotonicClock.milliseconds())
    }

    /// A log at `path` with auditd's compiled defaults: no rotation, no sync, no disk actions
    /// beyond a diagnostic.
    public convenience init(path: String, format: LogFormat = .raw, formatter: RecordFormatter = RecordFormatter(),
                            enricher: RecordEnricher? = nil, bufferSize: Int = defaultBufferSize) throws(AuditLogError) {
        try self.init(settings: LogSettings(path: path), format: format, formatter: formatter, enricher: enricher,
                      bufferSize: bufferSize, systemActions: NoSystemActions())
    }

    /// Switches between RAW and ENRICHED lines (a reload); the next line is in the new format.
    public func setFormat(_ format: LogFormat, enricher: RecordEnricher? = nil) {
        self.format = format
        self.enricher = format == .enriched ? enricher ?? self.enricher ?? RecordEnricher() : nil
    }

    deinit {
        backgroundSync?.stop()
    }

    /// auditd's disk-state flags, as its state report (SIGCONT) shows them.
    public struct DiskState: Sendable, Equatable {
        /// False once the disk was found full (`space left on partition = no`).
        public var spaceLeftOnPartition: Bool
        /// `space_left_action` ran and was not re-armed.
        public var spaceLeftActionPerformed: Bool
        /// `admin_space_left_action` ran and was not re-armed.
        public var adminSpaceLeftActionPerformed: Bool
        /// A write or open failed since the last resume.
        public var diskErrorDetected: Bool
    }

    public var diskState: DiskState {
        DiskState(spaceLeftOnPartition: !spaceMarks.diskFull, spaceLeftActionPerformed: spaceMarks.spaceLeftActed,
                  adminSpaceLeftActionPerformed: spaceMarks.adminSpaceLeftActed,
                  diskErrorDetected: diskErrorWarnings > 0 || failing)
    }

    /// Whether records wait in the buffer and the writer can write them now.
    public var hasPendingRecords: Bool { suspension == nil && buffer.count > writtenPrefix }
    /// Records in the buffer, not yet on disk.
    public var pendingRecords: UInt64 { bufferedRecords }
    public var isWriting: Bool { suspension == nil }

    // MARK: - The record path

    /// Appends one record's line. Writes the buffer out first when the line might not fit.
    public func append(type: AuditMessageType, payload: UnsafeRawBufferPointer) {
        guard suspension == nil else {
            recordsNotLogged += 1
            return
        }
        var needed = RecordFormatter.maximumLineLength(payloadLength: payload.count)
        if enricherReference != nil { needed += RecordEnricher.maximumAddedLength }
        guard makeRoom(needed) else {
            // The write that made room may have suspended logging (a size or disk action).
            if suspension == nil { recordsDropped += 1 } else { recordsNotLogged += 1 }
            return
        }
        // Neither is replaced while a line is formatted: `makeRoom` above was the last call out.
        let formatter = Unmanaged.passUnretained(formatterBox)
        if let enricher = enricherReference {
            let lineStart = buffer.count
            formatter._withUnsafeGuaranteedRef { $0.formatter.appendRawText(type: type, payload: payload, to: buffer) }
            enricher._withUnsafeGuaranteedRef { $0.appendInterpretations(type: type, lineStart: lineStart, to: buffer) }
            buffer.append(byte: 0x0A)
        } else {
            formatter._withUnsafeGuaranteedRef { $0.formatter.appendRaw(type: type, payload: payload, to: buffer) }
        }
        bufferedRecords += 1
    }

    /// Makes `needed` bytes available, writing the buffer out if it must. False when the buffer
    /// cannot take the line even after a write (the disk refuses bytes, or logging stopped).
    private func makeRoom(_ needed: Int) -> Bool {
        if buffer.available >= needed { return true }
        _ = try? flush()
        return suspension == nil && buffer.available >= needed
    }

    /// Writes everything buffered. On failure the disk action runs, the unwritten bytes stay
    /// buffered and the error is thrown; the next call tries again. While logging is suspended
    /// this does nothing.
    public func flush() throws(AuditLogError) {
        defer { reportBackgroundSyncError() }
        if suspension == nil, buffer.count > writtenPrefix { try reopenIfRemoved() }
        while suspension == nil, buffer.count > writtenPrefix {
            let end = writeEnd()
            guard let file else { try writeFailed(EBADF) }
            let written: Int
            switch file.write(buffer.base + writtenPrefix, count: end - writtenPrefix) {
            case let .success(count): written = count
            case let .failure(error): try writeFailed(error.errno)
            }
            fileSize += UInt64(written)
            consumeWritten(writtenPrefix + written)
            afterWrite()
        }
    }

    /// Writes everything buffered, then asks the kernel to put it on the disk.
    public func flushAndSync() throws(AuditLogError) {
        try flush()
        if let error = file?.sync() { throw AuditLogError("cannot sync log file", cause: error) }
    }

    /// The end of the next write: the whole buffer, or, when the size action ends the file, the
    /// line that brings the file to `max_log_file` (auditd checks the size after every record,
    /// so a rotated file ends with that line).
    private func writeEnd() -> Int {
        let rotation = settings.rotation
        guard let limit = rotation.sizeLimit, endsFileAtLimit else { return buffer.count }
        let remaining = limit > fileSize ? Int(clamping: limit - fileSize) : 0
        let from = writtenPrefix + max(remaining, 1) - 1
        guard from < buffer.count, let newline = memchr(buffer.base + from, 0x0A, buffer.count - from) else {
            return buffer.count
        }
        return buffer.base.distance(to: newline) + 1
    }

    private var endsFileAtLimit: Bool {
        switch settings.rotation.action {
        case .suspend, .keepLogs: true
        case .rotate: settings.rotation.numLogs > 1
        case .ignore, .syslog: false
        }
    }

    /// The first `total` bytes of the buffer are on disk: forget the whole lines among them and
    /// remember how much of a cut line is.
    private func consumeWritten(_ total: Int) {
        if total == buffer.count {
            recordsWritten += bufferedRecords
            bufferedRecords = 0
            buffer.consume(total)
            writtenPrefix = 0
            return
        }
        var whole = total
        while whole > 0, buffer.base.load(fromByteOffset: whole - 1, as: UInt8.self) != 0x0A { whole -= 1 }
        let lines = countNewlines(UnsafeRawBufferPointer(start: buffer.base, count: whole))
        recordsWritten += lines
        bufferedRecords -= lines
        buffer.consume(whole)
        writtenPrefix = total - whole
    }

    private func afterWrite() {
        if failing, buffer.isEmpty {
            // Recovered only once everything that waited is on disk.
            failing = false
            spaceMarks.writesRecovered()
            diskErrorWarnings = 0
            diskErrorMentioned = false
            emit(.diskRecovered, .notice, "Audit daemon is writing to \(path) again")
        }
        guard writtenPrefix == 0 else { return }
        syncIfDue()
        checkSize()
        let now = MonotonicClock.milliseconds()
        if lastSpaceCheck == .min || now - lastSpaceCheck >= settings.space.checkIntervalMilliseconds {
            checkSpace(now: now)
        }
    }

    private func writeFailed(_ code: Int32) throws(AuditLogError) -> Never {
        cutTornLine()
        failing = true
        if code == ENOSPC {
            diskFullReached()
        } else {
            diskError("write", code)
        }
        throw AuditLogError("cannot write log file", cause: SystemCallError("write", errno: code, subject: path))
    }

    /// Cuts a line the disk took only part of back off the file, so the file ends on a whole
    /// line; the line stays buffered and is written whole later.
    private func cutTornLine() {
        guard writtenPrefix > 0, let file else { return }
        let whole = fileSize - UInt64(writtenPrefix)
        if file.truncate(to: whole) {
            tornLinesCutBack += 1
            fileSize = whole
            writtenPrefix = 0
        }
    }

    // MARK: - Flushing

    private func resetSyncSchedule() {
        let freq = UInt64(max(settings.freq, 0))
        nextSyncAt = freq == 0 ? .max : (recordsWritten / freq + 1) * freq
    }

    /// After the write that carries the record count past a multiple of `freq`, one sync.
    private func syncIfDue() {
        guard settings.flush.isIncremental, recordsWritten >= nextSyncAt else { return }
        resetSyncSchedule()
        syncsRequested += 1
        guard let file else { return }
        if settings.flush == .incremental {
            if let error = file.sync() { diskError("fsync", error.errno) }
        } else {
            backgroundSync?.request(file.descriptor)
        }
    }

    private func configureBackgroundSync() {
        if settings.flush == .incrementalAsync {
            if backgroundSync == nil { backgroundSync = BackgroundSync() }
        } else if let running = backgroundSync {
            running.stop()
            backgroundSync = nil
        }
    }

    private func reportBackgroundSyncError() {
        if let code = backgroundSync?.takeError() { diskError("fsync", code) }
    }

    // MARK: - Opening and closing

    private func openLog() throws(AuditLogError) {
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
    private func reopenIfRemoved() throws(AuditLogError) {
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

    private func closeLog() {
        guard let closing = file else { return }
        cutTornLine()
        if settings.flush != .none, let error = closing.sync() {
            emit(.warning, .warning, "cannot sync \(path) before closing it: \(error)")
        }
        closing.close()
        file = nil
    }

    /// Stops writing until `resume()`. Buffered records are kept and written after it.
    private func suspend(_ message: String) {
        closeLog()
        suspension = .suspended(reason: message)
        emit(.suspended, .critical, message)
    }

    /// Sets rotated files to 0400/0440 and the reader group (auditd's `fix_disk_permissions`).
    private func repairPermissions() {
        let failed = files.repairRotated(below: max(settings.rotation.numLogs, 2), mode: settings.rotatedMode,
                                         group: settings.readerGroup)
        for name in failed {
            emit(.warning, .warning, "cannot set the permissions of rotated log \(name); it is not a regular file owned by root")
        }
    }

    // MARK: - Operations (signals call these through the daemon)

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

    // MARK: - Rotation (auditd: check_log_file_size, rotate_logs, shift_logs, check_excess_logs)

    private func checkSize() {
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
    private func rotateLogs(reason: String) {
        guard settings.rotation.numLogs >= 2 else {
            emit(.rotationSkipped, .notice, "Log rotation disabled (num_logs < 2), skipping")
            return
        }
        let existing = files.contiguousCount()
        rotateFiles(top: min(settings.rotation.numLogs - 1, existing + 1), reason: reason)
    }

    /// keep_logs: every rotated file moves up by one and none is deleted.
    private func shiftLogs(reason: String) {
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
    private func rotateFiles(top: Int, reason: String) {
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
            emit(.diskError, .error, "Error rotating logs from \(failure.from) to \(failure.to) (\(String(cString: strerror(failure.error.errno))))")
            if failure.error.errno == ENOSPC { diskFullReached() } else { diskError("rotate", failure.error.errno) }
        }
        let first = files.name(1)
        if rename(path, first) != 0, errno != ENOENT {
            let code = errno
            emit(.diskError, .error, "Error rotating logs from \(path) to \(first) (\(String(cString: strerror(code))))")
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

    private func makeReadOnlyByName(_ name: String) {
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
    private func removeExcessLogs() {
        guard settings.rotation.action == .rotate, settings.rotation.numLogs >= 2 else { return }
        for name in files.removeExcess(numLogs: settings.rotation.numLogs) {
            emit(.excessLogRemoved(name), .notice, "Log \(name) removed as it exceeds num_logs parameter")
        }
    }

    // MARK: - Disk space (auditd: check_space_left, do_space_left_action, do_disk_full_action,
    // do_disk_error_action)

    private enum Trigger {
        case spaceLeft, adminSpaceLeft, diskFull, diskError(String, Int32)
    }

    /// Samples free space on the log's file system (`fstatvfs`, the POSIX face of auditd's
    /// `fstatfs`: the same `f_bavail`) and runs what `DiskSpaceMarks` decides.
    private func checkSpace(now: Int64) {
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
    private func diskFullReached() {
        if spaceMarks.diskFullReached() { ranOutOfSpace() }
    }

    /// The disk just filled: said once, and `disk_full_action` run once, until space returns.
    private func ranOutOfSpace() {
        emit(.diskFull, .critical, "Audit daemon has no space left on logging partition")
        run(settings.space.diskFullAction, for: .diskFull)
    }

    private func diskError(_ operation: String, _ code: Int32) {
        let action = settings.space.diskErrorAction
        // `syslog` says it itself (at most five times); every other action but `ignore` refers to
        // "the previously mentioned write error", so mention it, once per run of failures.
        if action != .syslog, action != .ignore, !diskErrorMentioned {
            diskErrorMentioned = true
            emit(.diskError, .error, "\(operation) failed on \(path): \(String(cString: strerror(code))) (errno \(code))")
        }
        run(action, for: .diskError(operation, code))
    }

    private func run(_ action: DiskAction, for trigger: Trigger) {
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

    private func alert(for trigger: Trigger) {
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
                 "\(operation): Audit daemon detected an error writing an event to disk (\(String(cString: strerror(code))))")
        }
    }

    private func describe(_ trigger: Trigger) -> String {
        switch trigger {
        case .spaceLeft: "space_left"
        case .adminSpaceLeft: "admin_space_left"
        case .diskFull: "a full disk"
        case let .diskError(operation, code): "a disk error (\(operation): \(String(cString: strerror(code))))"
        }
    }

    private func suspendMessage(for trigger: Trigger) -> String {
        switch trigger {
        case .spaceLeft, .adminSpaceLeft: "Audit daemon is suspending logging due to low disk space."
        case .diskFull: "Audit daemon is suspending logging due to no space left on logging partition."
        case .diskError: "Audit daemon is suspending logging due to previously mentioned write error"
        }
    }

    private func runlevelSuffix(for trigger: Trigger) -> String {
        switch trigger {
        case .spaceLeft, .adminSpaceLeft: ""
        case .diskFull: " due to no space left on logging partition"
        case .diskError: " due to previously mentioned write error"
        }
    }

    private func emit(_ kind: LogFileEvent.Kind, _ severity: LogFileEvent.Severity, _ message: String) {
        onEvent(LogFileEvent(kind, severity, message))
    }

    private func countNewlines(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard var cursor = bytes.baseAddress else { return 0 }
        var left = bytes.count
        var lines: UInt64 = 0
        while left > 0, let found = memchr(cursor, 0x0A, left) {
            lines += 1
            let advanced = cursor.distance(to: UnsafeRawPointer(found)) + 1
            cursor += advanced
            left -= advanced
        }
        return lines
    }
}

/// System actions for a writer that has none configured: nothing runs.
struct NoSystemActions: SystemActions {
    func run(executable path: String) {}
    func changeRunlevel(_ level: Runlevel) {}
}

/// Monotonic milliseconds, for the space-check cadence.
enum MonotonicClock {
    static func milliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// The line formatter behind a reference, so the record path borrows it instead of copying it.
private final class FormatterBox {
    let formatter: RecordFormatter
    init(_ formatter: RecordFormatter) { self.formatter = formatter }
}
