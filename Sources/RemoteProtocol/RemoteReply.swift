/// What the server answers a client's frame with, and the text auditd sends with it
/// (`write_to_log` and `send_ack` in src/auditd-event.c, 3.0.9): the reply's length is the
/// text's, and audisp-remote reads the text as the reason it logs.
public enum RemoteReply: Hashable, Sendable {
    /// Logged (and, for a HEARTBEAT, "here").
    case ack
    /// Logged, and the disk is past `space_left`.
    case diskLow
    /// Not logged: the disk is full (auditd: "disk full").
    case diskFull
    /// Not logged: the write failed (auditd: "disk write error").
    case diskError
    /// Not logged: logging is suspended (auditd sends DISKERROR "remote logging suspended").
    case suspended
    /// The server is stopping (auditd's `auditd_tcp_listen_uninit`: sequence id 0).
    case ending

    public var type: RemoteMessageType {
        switch self {
        case .ack: .ack
        case .diskLow: .diskLow
        case .diskFull: .diskFull
        case .diskError, .suspended: .diskError
        case .ending: .ending
        }
    }

    /// The text after the header, as auditd sends it.
    public var text: StaticString {
        switch self {
        case .ack, .diskLow, .ending: ""
        case .diskFull: "disk full"
        case .diskError: "disk write error"
        case .suspended: "remote logging suspended"
        }
    }

    /// How many bytes the reply takes: header and text.
    public var size: Int { RemoteFrameHeader.size + text.utf8CodeUnitCount }

    /// Writes the reply to `sequenceID` at the start of `destination` (at least `size` bytes).
    public func write(sequenceID: UInt32, to destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= size, "a \(type) reply needs \(size) bytes")
        let text = self.text
        RemoteFrameHeader(type: type, length: UInt16(text.utf8CodeUnitCount), sequenceID: sequenceID).write(to: destination)
        let body = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        UnsafeMutableRawBufferPointer(rebasing: destination[RemoteFrameHeader.size...]).copyMemory(from: body)
    }

    /// The reply's bytes, for tests and callers not on the record path.
    public func bytes(sequenceID: UInt32) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            write(sequenceID: sequenceID, to: UnsafeMutableRawBufferPointer(buffer))
            count = size
        }
    }
}
