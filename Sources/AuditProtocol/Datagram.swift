/// The one place that knows how the kernel frames what it sends on an audit netlink socket.
///
/// Quirks, from kernel/audit.c (6.12):
/// - A record sent to the registered daemon carries `nlmsg_len` = payload length, without the
///   16-byte header (`audit_log_end()`: `nlh->nlmsg_len = skb->len - NLMSG_HDRLEN`). Copies sent to
///   the multicast group carry the standard length (`kauditd_send_multicast_skb()`). Either way the
///   datagram holds exactly one message, so the payload is everything after the header, and
///   `nlmsg_len` is only checked, never trusted.
/// - Replies (`AUDIT_GET`, `AUDIT_SIGNAL_INFO`, `NLMSG_ERROR`) use the standard length.
/// - `struct audit_status` grows between kernels (see `AuditStatus`).
public enum Datagram {
    /// What a datagram holds.
    public enum Content {
        /// A record to log. `lengthMismatch` is true when `nlmsg_len` matched neither framing; the
        /// payload then comes from the datagram's length, which is what the kernel really sent.
        case record(type: AuditMessageType, payload: UnsafeRawBufferPointer, lengthMismatch: Bool)
        /// A message auditd never logs: `EOE`, `AUDIT_REPLACE`, daemon types. Its bytes after the
        /// header, which auditd still hands its plugins for `EOE`.
        case notLogged(type: AuditMessageType, payload: UnsafeRawBufferPointer)
        /// A reply to a request, to be matched by type and sequence number.
        case reply(header: NetlinkHeader, payload: UnsafeRawBufferPointer)
        /// Bytes that are not a message at all.
        case malformed(Malformation)
    }

    /// Why a datagram could not be read as a message.
    public enum Malformation: Hashable, Sendable, CustomStringConvertible {
        /// Shorter than the 16-byte header.
        case shortHeader(length: Int)
        /// A record type with no payload: nothing to write.
        case emptyRecord(type: AuditMessageType)
        /// A reply whose `nlmsg_len` is shorter than its header or longer than the datagram.
        case badReplyLength(type: AuditMessageType, declared: UInt32, datagram: Int)

        public var description: String {
            switch self {
            case let .shortHeader(length):
                "datagram of \(length) bytes is shorter than a netlink header (16 bytes)"
            case let .emptyRecord(type):
                "record of type \(type.rawValue) has no payload"
            case let .badReplyLength(type, declared, datagram):
                "reply of type \(type.rawValue) declares nlmsg_len \(declared) in a datagram of \(datagram) bytes"
            }
        }
    }

    /// Reads one datagram. Never traps, whatever the bytes.
    @inlinable
    public static func classify(_ bytes: UnsafeRawBufferPointer) -> Content {
        let headerSize = NetlinkHeader.size
        guard bytes.count >= headerSize else { return .malformed(.shortHeader(length: bytes.count)) }
        let declared = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        let type = AuditMessageType(bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))

        if type.isReply {
            guard declared >= headerSize, declared <= bytes.count else {
                return .malformed(.badReplyLength(type: type, declared: declared, datagram: bytes.count))
            }
            var reader = ByteReader(bytes)
            // Cannot fail: the length was checked above.
            guard let header = try? NetlinkHeader(decoding: &reader) else {
                return .malformed(.shortHeader(length: bytes.count))
            }
            return .reply(header: header, payload: UnsafeRawBufferPointer(rebasing: bytes[headerSize..<Int(declared)]))
        }
        guard type.isLogged else { return .notLogged(type: type, payload: UnsafeRawBufferPointer(rebasing: bytes[headerSize...])) }

        let payloadLength = bytes.count - headerSize
        guard payloadLength > 0 else { return .malformed(.emptyRecord(type: type)) }
        let unicast = Int(declared) == payloadLength
        let multicast = Int(declared) == bytes.count
        return .record(
            type: type,
            payload: UnsafeRawBufferPointer(rebasing: bytes[headerSize...]),
            lengthMismatch: !(unicast || multicast)
        )
    }
}
