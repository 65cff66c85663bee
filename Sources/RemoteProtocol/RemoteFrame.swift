/// One frame found at the start of a stream's unread bytes.
public struct RemoteFrame: Hashable, Sendable {
    public var header: RemoteFrameHeader
    /// Where the record is in the bytes parsed: a MESSAGE's payload without its one trailing LF
    /// (auditd's `client_message` drops it too; audisp-remote sends none); empty for a HEARTBEAT.
    public var record: Range<Int>
    /// How many bytes of the stream the frame takes: header and payload.
    public var size: Int

    /// What `parse` found at the start of the bytes.
    public enum Parsed: Hashable, Sendable {
        /// A whole frame.
        case frame(RemoteFrame)
        /// The start of a frame that is correct so far; at least `needed` bytes in all make it whole.
        case incomplete(needed: Int)
    }

    /// Finds the frame at the start of `bytes` without copying them, or says how many bytes it
    /// needs, or why the stream is not one to read on. Bytes are checked as they arrive: a wrong
    /// magic, version, type or length is refused as soon as its bytes are there, not when the
    /// frame would be complete (a client dripping a bad frame is refused at its first wrong byte).
    ///
    /// auditd 3.0.9 (`auditd_tcp_client_handler`, src/auditd-listen.c) reads a stream without the
    /// magic as ASCII lines, ignores both versions, logs any type but HEARTBEAT as a record, and
    /// waits forever on a length past its buffer; here each of those is an error.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RemoteProtocolError) -> Parsed {
        let available = bytes.count
        let magicBytes = min(available, 4)
        for index in 0..<magicBytes where bytes[index] != UInt8(truncatingIfNeeded: RemoteFrameHeader.magic >> (8 * index)) {
            throw .badMagic(received: Array(bytes[0..<magicBytes]))
        }
        if available > 4, bytes[4] != RemoteFrameHeader.headerVersion { throw .unsupportedHeaderVersion(bytes[4]) }
        if available > 5, bytes[5] != 0 { throw .unsupportedMessageVersion(bytes[5]) }
        let sequenceID = available >= RemoteFrameHeader.size ? RemoteFrameHeader.load32(bytes, at: 12) : nil
        if available >= 10 {
            let type = RemoteMessageType(rawValue: RemoteFrameHeader.load32(bytes, at: 6))
            guard type.isFromClient else { throw .unexpectedType(type, sequenceID: sequenceID) }
        }
        guard available >= 12 else { return .incomplete(needed: RemoteFrameHeader.size) }
        let length = Int(bytes[10]) | Int(bytes[11]) << 8
        guard length <= RemoteFrameHeader.maximumMessageLength else {
            throw .messageTooLong(length: length, sequenceID: sequenceID)
        }
        let size = RemoteFrameHeader.size + length
        guard let sequenceID, available >= size else { return .incomplete(needed: size) }

        let type = RemoteMessageType(rawValue: RemoteFrameHeader.load32(bytes, at: 6))
        let header = RemoteFrameHeader(type: type, length: UInt16(length), sequenceID: sequenceID)
        let start = RemoteFrameHeader.size
        guard type == .message else {
            // A heartbeat's payload (audisp-remote sends none) is read past, as auditd does.
            return .frame(RemoteFrame(header: header, record: start..<start, size: size))
        }
        var end = size
        if end > start, bytes[end - 1] == 0x0A { end -= 1 }
        guard end > start else { throw .emptyRecord(sequenceID: sequenceID) }
        for index in start..<end where bytes[index] == 0 {
            throw .nulInRecord(offset: index - start, sequenceID: sequenceID)
        }
        return .frame(RemoteFrame(header: header, record: start..<end, size: size))
    }

    /// What to say when a stream ends with `remaining` unread bytes: nothing when there are none,
    /// else the frame was cut (whatever the bytes, they were correct so far or `parse` had thrown).
    public static func checkEnd(remaining: UnsafeRawBufferPointer) throws(RemoteProtocolError) {
        guard !remaining.isEmpty else { return }
        var expected = RemoteFrameHeader.size
        if remaining.count >= 12 { expected += Int(remaining[10]) | Int(remaining[11]) << 8 }
        throw .truncatedFrame(received: remaining.count, expected: expected)
    }
}
