/// What was wrong with bytes that claimed to be a netlink audit message.
public enum AuditProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than a field needs.
    case truncated(what: String, needed: Int, available: Int)
    /// A header's `nlmsg_len` that cannot describe the datagram it came in.
    case badLength(declared: UInt32, datagram: Int)

    public var description: String {
        switch self {
        case let .truncated(what, needed, available):
            "truncated \(what): needs \(needed) bytes, \(available) available"
        case let .badLength(declared, datagram):
            "nlmsg_len \(declared) does not fit a datagram of \(datagram) bytes"
        }
    }
}
