import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The writer's record path: each record's line formatted straight into the output buffer (or, for
/// the plugins, into a line buffer of its own when the log does not take it).
extension AuditLogWriter {
    /// Appends one record's line. Writes the buffer out first when the line might not fit.
    /// Returns the line as written, without its newline, for the plugins (valid until the writer is
    /// next called), or nil when it was not buffered (logging suspended, no room).
    @discardableResult
    public func append(type: AuditMessageType, payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard suspension == nil else {
            recordsNotLogged += 1
            return nil
        }
        var needed = RecordFormatter.maximumLineLength(payloadLength: payload.count)
        if enricherReference != nil { needed += RecordEnricher.maximumAddedLength }
        guard makeRoom(needed) else {
            // The write that made room may have suspended logging (a size or disk action).
            if suspension == nil { recordsDropped += 1 } else { recordsNotLogged += 1 }
            return nil
        }
        let lineStart = buffer.count
        appendLine(type: type, payload: payload, to: buffer)
        bufferedRecords += 1
        return UnsafeRawBufferPointer(start: buffer.base + lineStart, count: buffer.count - lineStart - 1)
    }

    /// The line `append` would write for a record, without its newline, formatted into a buffer of
    /// its own: for the plugins, when the log does not take the record (`EOE`, logging suspended,
    /// `write_logs = no`). Valid until the next call.
    public func formatLine(type: AuditMessageType, payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let payload = UnsafeRawBufferPointer(rebasing: payload.prefix(Self.maximumPluginPayload))
        lineBuffer.consume(lineBuffer.count)
        appendLine(type: type, payload: payload, to: lineBuffer)
        return UnsafeRawBufferPointer(start: lineBuffer.base, count: lineBuffer.count - 1)
    }

    /// The longest payload a plugin's line is made from: auditd's `MAX_AUDIT_MESSAGE_LENGTH`.
    static let maximumPluginPayload = 8970

    /// Formats one line, its newline included, into `output`, which has room for it.
    @inline(__always)
    func appendLine(type: AuditMessageType, payload: UnsafeRawBufferPointer, to output: OutputBuffer) {
        // Neither is replaced while a line is formatted: the caller's room-making was the last call out.
        let formatter = Unmanaged.passUnretained(formatterBox)
        if let enricher = enricherReference {
            let lineStart = output.count
            formatter._withUnsafeGuaranteedRef { $0.formatter.appendRawText(type: type, payload: payload, to: output) }
            enricher._withUnsafeGuaranteedRef { $0.appendInterpretations(type: type, lineStart: lineStart, to: output) }
            output.append(byte: 0x0A)
        } else {
            formatter._withUnsafeGuaranteedRef { $0.formatter.appendRaw(type: type, payload: payload, to: output) }
        }
    }

    /// Makes `needed` bytes available, writing the buffer out if it must. False when the buffer
    /// cannot take the line even after a write (the disk refuses bytes, or logging stopped).
    func makeRoom(_ needed: Int) -> Bool {
        if buffer.available >= needed { return true }
        _ = try? flush()
        return suspension == nil && buffer.available >= needed
    }
}
