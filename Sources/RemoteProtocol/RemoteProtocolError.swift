/// Why the bytes a client sent are not a frame the server takes. Each case says what was wrong
/// and where (the offset in the connection's stream is the caller's to add); `closeReason` is the
/// short word the listener's `DAEMON_CLOSE` record gives (`op=bad-magic ... res=no`).
public enum RemoteProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first bytes of a frame are not the magic `fe 00 00 ff`. `received` are the bytes seen
    /// (up to four): a client with `format = ascii`, or not audisp-remote at all.
    case badMagic(received: [UInt8])
    /// A header version other than 0: a layout this server cannot read.
    case unsupportedHeaderVersion(UInt8)
    /// A message version other than 0: "the minimum support needed to understand this message".
    case unsupportedMessageVersion(UInt8)
    /// A type a client does not send (a reply, or unknown).
    case unexpectedType(RemoteMessageType, sequenceID: UInt32?)
    /// A length past `RemoteFrameHeader.maximumMessageLength`.
    case messageTooLong(length: Int, sequenceID: UInt32?)
    /// A record with a NUL byte at `offset` (from the start of the record): auditd would have cut
    /// the record there and logged the rest as lost.
    case nulInRecord(offset: Int, sequenceID: UInt32)
    /// A MESSAGE with nothing in it but, at most, its newline.
    case emptyRecord(sequenceID: UInt32)
    /// The connection ended inside a frame: `received` of the `expected` bytes had arrived
    /// (`expected` is the header size while the header itself was incomplete).
    case truncatedFrame(received: Int, expected: Int)

    /// The word for `op=` in the listener's DAEMON_CLOSE record.
    public var closeReason: String {
        switch self {
        case .badMagic: "bad-magic"
        case .unsupportedHeaderVersion, .unsupportedMessageVersion: "bad-version"
        case .unexpectedType: "bad-type"
        case .messageTooLong: "too-long"
        case .nulInRecord: "nul"
        case .emptyRecord: "empty"
        case .truncatedFrame: "truncated"
        }
    }

    public var description: String {
        switch self {
        case let .badMagic(received):
            let hex = received.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined(separator: " ")
            return "not a managed-format frame: magic fe 00 00 ff expected, got \(hex) (audisp-remote's format = ascii is not supported)"
        case let .unsupportedHeaderVersion(version):
            return "header version \(version) is not supported (only 0)"
        case let .unsupportedMessageVersion(version):
            return "message version \(version) is not supported (only 0)"
        case let .unexpectedType(type, sequenceID):
            return "frame type \(type) is not one a client sends (MESSAGE or HEARTBEAT)" + Self.sequence(sequenceID)
        case let .messageTooLong(length, sequenceID):
            return "frame length \(length) is past the limit of \(RemoteFrameHeader.maximumMessageLength) bytes" + Self.sequence(sequenceID)
        case let .nulInRecord(offset, sequenceID):
            return "record has a NUL byte at offset \(offset)" + Self.sequence(sequenceID)
        case let .emptyRecord(sequenceID):
            return "record is empty" + Self.sequence(sequenceID)
        case let .truncatedFrame(received, expected):
            return "connection ended inside a frame: \(received) of \(expected) bytes received"
        }
    }

    private static func sequence(_ id: UInt32?) -> String { id.map { " (sequence id \($0))" } ?? "" }
}
