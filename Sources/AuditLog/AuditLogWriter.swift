import AuditSystem
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

    public internal(set) var settings: LogSettings
    public var path: String { settings.path }
    /// The line format; `setFormat(_:enricher:)` changes it between batches (a reload).
    public internal(set) var format: LogFormat
    /// The RAW part of each line (`node=` prefix, type name, payload). A reload may replace it.
    public var formatter: RecordFormatter {
        didSet { formatterBox = FormatterBox(formatter) }
    }
    /// Adds the ENRICHED part behind each RAW line; nil for RAW.
    public internal(set) var enricher: RecordEnricher? {
        didSet { enricherReference = enricher.map { Unmanaged.passUnretained($0) } }
    }
    /// What `append` reads `formatter` and `enricher` through, without retaining them per record:
    /// read from a class property, the formatter's struct was copied (three retains and releases
    /// of its tables per record) and the enricher retained. The properties above keep both alive.
    var formatterBox: FormatterBox
    var enricherReference: Unmanaged<RecordEnricher>?
    /// The live log and its rotated files.
    public var files: LogFileSet { LogFileSet(path: settings.path) }
    /// nil while writing.
    public internal(set) var suspension: Suspension?

    /// The live log; nil while it is closed (suspended, not logging, or between a close and a reopen).
    var file: OpenLogFile?
    let buffer: OutputBuffer
    /// Where `formatLine` formats a line the log does not take.
    let lineBuffer = OutputBuffer(capacity: RecordFormatter.maximumLineLength(payloadLength: maximumPluginPayload)
                                                    + RecordEnricher.maximumAddedLength)
    let systemActions: any SystemActions
    let onEvent: (LogFileEvent) -> Void
    var backgroundSync: BackgroundSync?

    /// Records formatted into the buffer and not yet written.
    var bufferedRecords: UInt64 = 0
    /// Bytes at the front of the buffer already on disk: a line a short write cut in two.
    var writtenPrefix = 0
    /// Lines written to the file by this writer.
    public internal(set) var recordsWritten: UInt64 = 0
    /// Records that could not be written: the buffer was full of bytes the disk would not take.
    public internal(set) var recordsDropped: UInt64 = 0
    /// Records not written because logging was suspended or `write_logs = no`.
    public internal(set) var recordsNotLogged: UInt64 = 0
    /// The size of the live file, kept in memory as auditd does (set at open, 0 for a new file).
    public internal(set) var fileSize: UInt64 = 0
    /// Bytes written to the log files by this writer, across rotations (for the metrics).
    public internal(set) var bytesWritten: UInt64 = 0
    /// Rotations done (size, request or disk action).
    public internal(set) var rotations: UInt64 = 0
    /// Lines a full disk took only part of, cut back off the file to be written whole later.
    public internal(set) var tornLinesCutBack: UInt64 = 0
    /// Syncs done inline (`incremental`) or handed to the sync thread (`incremental_async`).
    public internal(set) var syncsRequested: UInt64 = 0
    /// Syncs the `incremental_async` thread has finished.
    public var backgroundSyncsCompleted: UInt64 { backgroundSync?.completed.load(ordering: .relaxed) ?? 0 }

    // auditd's state flags (`fs_space_left`, `fs_space_warning`, `fs_admin_space_warning`,
    // `disk_err_warning`), cleared by `resume()`.
    var spaceMarks = DiskSpaceMarks()
    var diskErrorWarnings = 0
    /// Whether the error behind the current run of failures was reported (for actions other than syslog).
    var diskErrorMentioned = false
    /// The last write failed; the next one that works is reported.
    var failing = false
    /// The size limit was reported for this file (syslog action).
    var sizeReported = false
    var lastSpaceCheck: Int64 = .min
    var syncSchedule = SyncSchedule(freq: 0, recordsWritten: 0)
    /// The last rotated file known to exist (keep_logs), auditd's `last_log`.
    var lastShifted = 0

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

    /// Whether records wait in the buffer and the writer can write them now.
    public var hasPendingRecords: Bool { suspension == nil && buffer.count > writtenPrefix }
    /// Records in the buffer, not yet on disk.
    public var pendingRecords: UInt64 { bufferedRecords }
    public var isWriting: Bool { suspension == nil }

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
            bytesWritten += UInt64(written)
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
    func writeEnd() -> Int {
        let rotation = settings.rotation
        guard let limit = rotation.sizeLimit, endsFileAtLimit else { return buffer.count }
        let remaining = limit > fileSize ? Int(clamping: limit - fileSize) : 0
        let from = writtenPrefix + max(remaining, 1) - 1
        guard from < buffer.count, let newline = memchr(buffer.base + from, 0x0A, buffer.count - from) else {
            return buffer.count
        }
        return buffer.base.distance(to: newline) + 1
    }

    var endsFileAtLimit: Bool {
        switch settings.rotation.action {
        case .suspend, .keepLogs: true
        case .rotate: settings.rotation.numLogs > 1
        case .ignore, .syslog: false
        }
    }

    /// The first `total` bytes of the buffer are on disk: forget the whole lines among them and
    /// remember how much of a cut line is.
    func consumeWritten(_ total: Int) {
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

    func afterWrite() {
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

    func writeFailed(_ code: Int32) throws(AuditLogError) -> Never {
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
    func cutTornLine() {
        guard writtenPrefix > 0, let file else { return }
        let whole = fileSize - UInt64(writtenPrefix)
        if file.truncate(to: whole) {
            tornLinesCutBack += 1
            fileSize = whole
            writtenPrefix = 0
        }
    }

    func emit(_ kind: LogFileEvent.Kind, _ severity: LogFileEvent.Severity, _ message: String) {
        onEvent(LogFileEvent(kind, severity, message))
    }

    func countNewlines(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
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

/// The line formatter behind a reference, so the record path borrows it instead of copying it.
final class FormatterBox {
    let formatter: RecordFormatter
    init(_ formatter: RecordFormatter) { self.formatter = formatter }
}
