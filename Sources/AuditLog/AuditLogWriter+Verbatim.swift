/// Lines written as they came: a central server's records from its clients.
extension AuditLogWriter {
    /// The number every line appended so far has reached: the ordinal of the last line appended.
    /// It only grows, across writes, rotations and failures (a written line moves from
    /// `pendingRecords` to `recordsWritten`), so a line appended when this was N is on disk once
    /// `recordsWritten >= N`: what the central server waits for before it acknowledges a record.
    public var linesAppended: UInt64 { recordsWritten + bufferedRecords }

    /// Appends `text` and a newline, byte for byte: auditd writes a client's record as the client
    /// sent it, without its own `node=` or the ENRICHED part (src/auditd-event.c, `write_to_log`
    /// with a network event's `reply.message`). Returns the line as written, without its newline,
    /// valid until the writer is next called; nil when it was not buffered (logging suspended, no
    /// room), counted as for `append`.
    @discardableResult
    public func appendVerbatim(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard suspension == nil else {
            recordsNotLogged += 1
            return nil
        }
        guard makeRoom(text.count + 1) else {
            if suspension == nil { recordsDropped += 1 } else { recordsNotLogged += 1 }
            return nil
        }
        let lineStart = buffer.count
        buffer.append(text)
        buffer.append(byte: 0x0A)
        bufferedRecords += 1
        return UnsafeRawBufferPointer(start: buffer.base + lineStart, count: text.count)
    }
}
