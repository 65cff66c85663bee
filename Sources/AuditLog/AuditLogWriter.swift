import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Appends records to the audit log as auditd's lines (RAW or ENRICHED), in batches: lines are formatted into one
/// buffer and written with one `write(2)` when it fills or when the daemon asks (the socket went
/// quiet, or the batch window closed).
///
/// A write that fails keeps its bytes in the buffer, to be written by the next `flush()`; a record
/// is only dropped when the buffer is full of bytes that cannot be written, and it is counted.
public final class AuditLogWriter {
    public static let defaultBufferSize = 256 * 1024

    public let path: String
    public let format: LogFormat
    public let formatter: RecordFormatter
    /// Adds the ENRICHED part behind each RAW line; nil for RAW.
    public let enricher: RecordEnricher?
    private var descriptor: Int32
    private let buffer: OutputBuffer
    /// Records formatted into the buffer and not yet written.
    private var bufferedRecords: UInt64 = 0
    /// Lines written to the file by this writer.
    public private(set) var recordsWritten: UInt64 = 0
    /// Records that could not be written: the buffer was full of bytes the disk would not take.
    public private(set) var recordsDropped: UInt64 = 0
    /// The size of the file, kept in memory as auditd does.
    public private(set) var fileSize: UInt64 = 0

    /// - Parameter enricher: what writes the ENRICHED part when `format` is `.enriched`; by default
    ///   one that asks the system's account databases.
    public init(path: String, format: LogFormat = .raw, formatter: RecordFormatter = RecordFormatter(),
                enricher: RecordEnricher? = nil, bufferSize: Int = defaultBufferSize) throws(AuditLogError) {
        self.path = path
        self.format = format
        self.formatter = formatter
        self.enricher = format == .enriched ? enricher ?? RecordEnricher() : nil
        buffer = OutputBuffer(capacity: bufferSize)
        descriptor = try LogFile.open(path: path)
        try startOnNewLine()
    }

    deinit { close(descriptor) }

    public var hasPendingRecords: Bool { !buffer.isEmpty }

    /// Appends one record's line. Writes the buffer out first when the line might not fit.
    public func append(type: UInt16, payload: UnsafeRawBufferPointer) {
        var needed = formatter.maximumLineLength(payloadLength: payload.count)
        if enricher != nil { needed += RecordEnricher.maximumAddedLength }
        guard makeRoom(needed) else {
            recordsDropped += 1
            return
        }
        if let enricher {
            let lineStart = buffer.count
            formatter.appendRawText(type: type, payload: payload, to: buffer)
            enricher.appendInterpretations(type: type, lineStart: lineStart, to: buffer)
            buffer.append(byte: 0x0A)
        } else {
            formatter.appendRaw(type: type, payload: payload, to: buffer)
        }
        bufferedRecords += 1
    }

    /// Makes `needed` bytes available, writing the buffer out if it must. False when the buffer
    /// cannot take the line even after a write (the disk refuses bytes).
    private func makeRoom(_ needed: Int) -> Bool {
        if buffer.available >= needed { return true }
        _ = try? flush()
        return buffer.available >= needed
    }

    /// Writes everything buffered. On failure the unwritten bytes stay buffered and the error is
    /// thrown; the next call tries again.
    public func flush() throws(AuditLogError) {
        while !buffer.isEmpty {
            let written = write(descriptor, buffer.base, buffer.count)
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditLogError("cannot write log file", cause: SystemCallError("write", errno: errno, subject: path))
            }
            fileSize += UInt64(written)
            if written == buffer.count {
                recordsWritten += bufferedRecords
                bufferedRecords = 0
            } else {
                // Count the whole lines that made it; the rest of a torn line is written next time.
                recordsWritten += countNewlines(in: UnsafeRawBufferPointer(start: buffer.base, count: written))
                bufferedRecords = countNewlines(in: UnsafeRawBufferPointer(start: buffer.base + written, count: buffer.count - written))
            }
            buffer.consume(written)
        }
    }

    /// Writes everything buffered, then asks the kernel to put it on the disk.
    public func flushAndSync() throws(AuditLogError) {
        try flush()
        guard fsync(descriptor) == 0 else {
            throw AuditLogError("cannot sync log file", cause: SystemCallError("fsync", errno: errno, subject: path))
        }
    }

    /// A process killed in the middle of a write can leave half a line at the end of the file;
    /// the first new line must not be glued to it.
    private func startOnNewLine() throws(AuditLogError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw AuditLogError("cannot inspect log file", cause: SystemCallError("fstat", errno: errno, subject: path))
        }
        fileSize = UInt64(info.st_size)
        guard info.st_size > 0 else { return }
        var last: UInt8 = 0
        let readFD = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard readFD >= 0 else { return }
        defer { close(readFD) }
        if pread(readFD, &last, 1, info.st_size - 1) == 1, last != 0x0A {
            buffer.append(byte: 0x0A)
        }
    }

    private func countNewlines(in bytes: UnsafeRawBufferPointer) -> UInt64 {
        var lines: UInt64 = 0
        for byte in bytes where byte == 0x0A { lines += 1 }
        return lines
    }
}
