import AuditProtocol
import Testing

/// Inputs the fuzzers (Fuzz/, `make fuzz`) found crashing, kept so the fix stays fixed.
@Suite struct FuzzRegressionTests {
    /// NetlinkDecoder, first run: an `NLMSG_ERROR` whose error field is `Int32.min`. Negating it
    /// trapped (`-Int32.min` overflows), so one datagram could stop the daemon.
    static let acknowledgementWithMinimumError: [UInt8] = [
        0x18, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x11, 0x27, 0x10, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80,
    ]

    @Test func acknowledgementWithMinimumErrorDecodesWithoutTrapping() {
        Self.acknowledgementWithMinimumError.withUnsafeBytes { bytes in
            guard case let .reply(header, payload) = Datagram.classify(bytes) else {
                Issue.record("an NLMSG_ERROR of 24 bytes is a reply")
                return
            }
            #expect(header.type == .error)
            // The echoed request header is cut short: an error to report, not a trap.
            #expect(throws: AuditProtocolError.self) { try NetlinkAcknowledgement(decoding: payload) }
        }
    }

    @Test(arguments: [Int32.min, Int32.min + 1, -1, 0, 1, Int32.max])
    func acknowledgementErrorFieldRoundTrips(_ field: Int32) throws {
        var writer = ByteWriter()
        writer.write(field)
        NetlinkHeader(length: 16, type: .setStatus, flags: [.request, .ack], sequence: 7).encode(into: &writer)
        let ack = try writer.bytes.withUnsafeBytes { try NetlinkAcknowledgement(decoding: $0) }
        #expect(ack.isSuccess == (field == 0))
        #expect(ack.encoded() == writer.bytes)
    }
}
