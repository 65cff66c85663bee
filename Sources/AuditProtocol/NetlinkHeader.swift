/// `struct nlmsghdr`: the 16-byte header in front of every netlink message.
public struct NetlinkHeader: Hashable, Sendable {
    public static let size = 16

    /// `nlmsg_len`. On the registered daemon's socket the kernel sets it to the payload length of a
    /// record, not the message length (see `Datagram`).
    public var length: UInt32
    public var type: AuditMessageType
    public var flags: Flags
    public var sequence: UInt32
    /// `nlmsg_pid`: the sending port id (0 from the kernel).
    public var portID: UInt32

    public init(length: UInt32, type: AuditMessageType, flags: Flags, sequence: UInt32, portID: UInt32 = 0) {
        self.length = length
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
    }

    public init(decoding reader: inout ByteReader) throws(AuditProtocolError) {
        length = try reader.read(UInt32.self)
        type = AuditMessageType(try reader.read(UInt16.self))
        flags = Flags(rawValue: try reader.read(UInt16.self))
        sequence = try reader.read(UInt32.self)
        portID = try reader.read(UInt32.self)
    }

    public func encode(into writer: inout ByteWriter) {
        writer.write(length)
        writer.write(type.rawValue)
        writer.write(flags.rawValue)
        writer.write(sequence)
        writer.write(portID)
    }

    /// `nlmsg_flags`.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// `NLM_F_REQUEST`.
        public static let request = Flags(rawValue: 0x1)
        /// `NLM_F_ACK`: answer with an `NLMSG_ERROR` carrying 0 on success.
        public static let ack = Flags(rawValue: 0x4)
    }
}

/// A request to the kernel: header plus payload, ready to send.
public struct NetlinkRequest: Sendable {
    public let type: AuditMessageType
    public let sequence: UInt32
    public let bytes: [UInt8]

    public init(type: AuditMessageType, sequence: UInt32, wantsAck: Bool, payload: [UInt8] = []) {
        self.type = type
        self.sequence = sequence
        var writer = ByteWriter(capacity: NetlinkHeader.size + payload.count)
        let flags: NetlinkHeader.Flags = wantsAck ? [.request, .ack] : [.request]
        NetlinkHeader(length: UInt32(NetlinkHeader.size + payload.count), type: type, flags: flags, sequence: sequence)
            .encode(into: &writer)
        writer.write(payload)
        bytes = writer.bytes
    }
}
