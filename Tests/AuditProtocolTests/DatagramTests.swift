import AuditProtocol
import Testing

@Suite struct DatagramTests {
    /// A datagram: header with `declared` as nlmsg_len, then `payload`.
    func datagram(type: UInt16, declared: UInt32?, payload: [UInt8], sequence: UInt32 = 0) -> [UInt8] {
        var writer = ByteWriter()
        NetlinkHeader(length: declared ?? UInt32(16 + payload.count), type: AuditMessageType(type), flags: [],
                      sequence: sequence).encode(into: &writer)
        writer.write(payload)
        return writer.bytes
    }

    func classify(_ bytes: [UInt8], _ check: (Datagram.Content) -> Void) {
        bytes.withUnsafeBytes { check(Datagram.classify($0)) }
    }

    let text = Array("audit(1700000000.123:42): arch=c000003e syscall=39".utf8)

    @Test func unicastRecordLengthCountsOnlyThePayload() {
        classify(datagram(type: 1300, declared: UInt32(text.count), payload: text)) { content in
            guard case let .record(type, payload, mismatch) = content else { Issue.record("\(content)"); return }
            #expect(type == .syscall)
            #expect(Array(payload) == text)
            #expect(!mismatch)
        }
    }

    @Test func multicastRecordCarriesTheStandardLength() {
        classify(datagram(type: 1300, declared: nil, payload: text)) { content in
            guard case let .record(_, payload, mismatch) = content else { Issue.record("\(content)"); return }
            #expect(Array(payload) == text)
            #expect(!mismatch)
        }
    }

    @Test(arguments: [UInt32(0), 5, 10_000])
    func recordWithAnImpossibleLengthIsKeptWithTheDatagramsLength(declared: UInt32) {
        classify(datagram(type: 1300, declared: declared, payload: text)) { content in
            guard case let .record(_, payload, mismatch) = content else { Issue.record("\(content)"); return }
            #expect(Array(payload) == text)
            #expect(mismatch)
        }
    }

    @Test func datagramShorterThanAHeaderIsMalformed() {
        classify([1, 2, 3, 4, 5, 6, 7]) { content in
            guard case .malformed(.shortHeader(7)) = content else { Issue.record("\(content)"); return }
        }
    }

    @Test func recordWithoutPayloadIsMalformed() {
        classify(datagram(type: 1300, declared: 0, payload: [])) { content in
            guard case .malformed(.emptyRecord) = content else { Issue.record("\(content)"); return }
        }
    }

    @Test func replyLongerThanItsDatagramIsMalformed() {
        classify(datagram(type: 1000, declared: 200, payload: [0, 0, 0, 0])) { content in
            guard case .malformed(.badReplyLength) = content else { Issue.record("\(content)"); return }
        }
    }

    @Test func statusReplyIsAReplyWithItsSequence() {
        let status = AuditStatus(enabled: 1, failure: 1, pid: 77, backlogLimit: 8192, lost: 3)
        classify(datagram(type: 1000, declared: nil, payload: status.encoded(), sequence: 9)) { content in
            guard case let .reply(header, payload) = content else { Issue.record("\(content)"); return }
            #expect(header.sequence == 9)
            #expect((try? AuditStatus(decoding: payload)) == status)
        }
    }

    @Test(arguments: [UInt16(1320), 1329, 1200, 1205, 1011])
    func typesAuditdNeverLogsAreNotRecords(type: UInt16) {
        classify(datagram(type: type, declared: nil, payload: text)) { content in
            switch content {
            case .notLogged, .reply: break
            default: Issue.record("type \(type) classified as \(content)")
            }
        }
    }

    @Test func unknownTypesAreStillRecords() {
        classify(datagram(type: 2999, declared: UInt32(text.count), payload: text)) { content in
            guard case .record = content else { Issue.record("\(content)"); return }
        }
    }
}

@Suite struct AuditStatusTests {
    @Test func anOlderKernelsShorterStatusReadsMissingFieldsAsZero() throws {
        let full = AuditStatus(enabled: 1, failure: 1, pid: 5, rateLimit: 0, backlogLimit: 64, lost: 2, backlog: 1)
        let short = Array(full.encoded().prefix(AuditStatus.minimumSize))
        let decoded = try short.withUnsafeBytes { try AuditStatus(decoding: $0) }
        #expect(decoded == full)
    }

    @Test func aStatusShorterThanEightFieldsIsRefused() {
        let bytes = [UInt8](repeating: 0, count: 20)
        #expect(throws: AuditProtocolError.self) { try bytes.withUnsafeBytes { try AuditStatus(decoding: $0) } }
    }

    @Test func acknowledgementCarriesThePositiveErrno() throws {
        let request = NetlinkHeader(length: 16, type: .setStatus, flags: [.request, .ack], sequence: 4)
        let encoded = NetlinkAcknowledgement(errorNumber: 17, request: request).encoded()
        #expect(encoded.prefix(4) == [0xEF, 0xFF, 0xFF, 0xFF])  // -17, host order
        let decoded = try encoded.withUnsafeBytes { try NetlinkAcknowledgement(decoding: $0) }
        #expect(decoded.errorNumber == 17)
        #expect(decoded.request == request)
    }
}

@Suite struct AuditStampTests {
    func parse(_ text: String) -> AuditStamp? {
        Array(text.utf8).withUnsafeBytes { AuditStamp(parsing: $0) }
    }

    @Test func parsesTheKernelsStamp() {
        #expect(parse("audit(1700000000.007:4242): x") == AuditStamp(seconds: 1_700_000_000, milliseconds: 7, serial: 4242))
        #expect(parse("audit(1700000000.007:4242): x")?.description == "audit(1700000000.007:4242)")
    }

    @Test(arguments: ["", "audit(", "audit(1.2)", "audit(x.1:2)", "audit(1.1000:2)", "audit(1.1:99999999999)", "type=X"])
    func refusesWhatIsNotAStamp(_ text: String) {
        #expect(parse(text) == nil)
    }
}
