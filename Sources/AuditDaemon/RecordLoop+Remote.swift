import CAudit
import AuditLog
import AuditProtocol
import AuditRemote
import NIOCore
import RemoteProtocol

/// The central server's records on the record path: taken from the inbox a bounded batch per
/// turn, appended verbatim, answered once written.
extension RecordLoop {
    /// Takes one batch from the inbox into the writer's buffer; returns whether more waits.
    ///
    /// A client's record is written exactly as it came (auditd's `write_to_log` of a network
    /// event, src/auditd-event.c): its own `node=` kept, none added, never enriched. It is answered
    /// after the write that carries it (`acknowledgeWritten`), or at once when the log does not
    /// take it. The listener's own records are the daemon's (stamped, with the server's `node=`).
    func takeRemoteRecords() -> Bool {
        guard let inbox = remoteInbox, !inbox.isEmpty else { return false }
        inbox.take(upTo: Self.remoteBatchLimit, into: &remoteBatch)
        for entry in remoteBatch {
            switch entry {
            case let .record(record):
                take(record)
            case let .listenerRecord(record):
                writeListenerRecord(record)
            }
        }
        remoteBatch.removeAll(keepingCapacity: true)
        return !inbox.isEmpty
    }

    private func take(_ record: RemoteRecord) {
        record.bytes.withUnsafeReadableBytes { text in
            guard let line = writer.appendVerbatim(text) else {
                acknowledgements.refuse(record.acknowledgement, with: refusal())
                if distributeNetwork, dispatcher.isDispatching { distribute(text) }
                return
            }
            acknowledgements.await(line: writer.linesAppended, record.acknowledgement)
            if distributeNetwork, dispatcher.isDispatching { distribute(line) }
        }
    }

    /// To the plugins as auditd's `distribute_event` sends a network event: the line as the
    /// client sent it, its type read back from its `type=` field.
    private func distribute(_ line: UnsafeRawBufferPointer) {
        dispatcher.dispatch(type: RemoteRecordType.extract(from: line), kernelText: line, line: line, fromNetwork: true)
    }

    /// Answers every client record now on disk.
    func acknowledgeWritten() {
        // auditd's DISKLOW: the record is logged, and the disk is past space_left.
        let reply: RemoteReply = writer.diskState.spaceLeftActionPerformed ? .diskLow : .ack
        acknowledgements.complete(written: writer.recordsWritten, with: reply)
    }

    /// Why the log did not take a record, as auditd answers it (`handle_event`,
    /// src/auditd-event.c): ACK with `write_logs = no` (nothing is asked of the disk), DISKERROR
    /// "remote logging suspended" while logging is suspended.
    private func refusal() -> RemoteReply {
        if writer.suspension == .notLogging { return .ack }
        if writer.suspension != nil { return .suspended }
        return writer.diskState.spaceLeftOnPartition ? .diskError : .diskFull
    }

    /// Everything the listener left, written (its DAEMON_CLOSE records included): after the
    /// listener stopped, before DAEMON_END.
    func takeAllRemoteRecords() {
        while takeRemoteRecords() {}
        write()
        acknowledgeWritten()
    }
}

/// The message type of a client's line, as auditd's `extract_type` (src/auditd-event.c) reads it:
/// the name after `type=` (past a `node=` prefix), libaudit's number for it; 0 when there is none.
enum RemoteRecordType {
    private static let typeField = Array("type=".utf8)

    static func extract(from line: UnsafeRawBufferPointer) -> AuditMessageType {
        let type = typeField
        var start = 0
        // At the start, or after a `node=...` field and its space.
        if !line.starts(with: type) {
            guard let space = line.firstIndex(of: 0x20) else { return AuditMessageType(rawValue: 0) }
            start = space + 1
            guard line[start...].starts(with: type) else { return AuditMessageType(rawValue: 0) }
        }
        let nameStart = start + type.count
        let nameEnd = line[nameStart...].firstIndex(of: 0x20) ?? line.count
        return messageType(named: UnsafeRawBufferPointer(rebasing: line[nameStart..<nameEnd]))
    }

    /// libaudit's number for a name, asked with a C string made on the stack: no String per record.
    private static func messageType(named name: UnsafeRawBufferPointer) -> AuditMessageType {
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        guard name.count < MemoryLayout.size(ofValue: text) else { return AuditMessageType(rawValue: 0) }
        let number = withUnsafeMutableBytes(of: &text) { bytes in
            bytes.copyMemory(from: name)  // the rest stays 0: the string's end
            return CAudit_message_type_number(bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
        return number >= 0 && number <= Int32(UInt16.max) ? AuditMessageType(UInt16(number)) : AuditMessageType(rawValue: 0)
    }
}
