/// The payload of `NLMSG_ERROR`: an errno (negative) or 0 for an ACK, then the request's header.
public struct NetlinkAcknowledgement: Hashable, Sendable {
    /// 0 for success, otherwise a positive errno value (the kernel sends it negated).
    public var errorNumber: Int32
    /// The header of the request this answers.
    public var request: NetlinkHeader

    public init(errorNumber: Int32, request: NetlinkHeader) {
        self.errorNumber = errorNumber
        self.request = request
    }

    public var isSuccess: Bool { errorNumber == 0 }

    public init(decoding payload: UnsafeRawBufferPointer) throws(AuditProtocolError) {
        var reader = ByteReader(payload)
        // Wrapping: `-Int32.min` traps, and these are bytes from outside (found by fuzzing). The
        // kernel sends 0 or a negated errno; anything else reads as a failure with an odd number.
        errorNumber = 0 &- (try reader.read(Int32.self))
        request = try NetlinkHeader(decoding: &reader)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 20)
        writer.write(0 &- errorNumber)
        request.encode(into: &writer)
        return writer.bytes
    }
}
