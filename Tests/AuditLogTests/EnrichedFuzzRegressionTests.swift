import AuditProtocol
import AuditLog
import AuditTestKit
import AuditdGoldenLogs
import Testing

/// Inputs the EnrichedFormatter fuzzer (Fuzz/, `make fuzz`) found, kept so the fix stays fixed.
@Suite struct EnrichedFuzzRegressionTests {
    /// The whole ENRICHED line, newline included, as `AuditLogWriter` makes it.
    static func enrichedLine(type: UInt16, payload: [UInt8]) -> [UInt8] {
        let formatter = RecordFormatter()
        let enricher = RecordEnricher(directory: FixtureAccounts(), missLifetime: 0, clock: { 0 })
        let buffer = OutputBuffer(capacity: formatter.maximumLineLength(payloadLength: payload.count) + RecordEnricher.maximumAddedLength)
        payload.withUnsafeBytes { raw in
            formatter.appendRawText(type: AuditMessageType(type), payload: raw, to: buffer)
            enricher.appendInterpretations(type: AuditMessageType(type), lineStart: 0, to: buffer)
        }
        buffer.append(byte: 0x0A)
        return Array(buffer.bytes)
    }

    static func hex(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(text.utf8.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    /// A local socket whose path holds a newline and a line of its own: auparse prints the path as
    /// it is, so the record became two lines and the second one a forged record. Any user can name
    /// such a socket and connect to it under a rule on connect(2).
    @Test func aSocketPathWithANewlineCannotAddALineToTheLog() {
        let path = "/tmp/a\ntype=USER_LOGIN msg=audit(1700000000.000:99): pid=1 uid=0 res=success"
        let payload = Array("audit(1700000000.000:3): saddr=0100\(Self.hex(path))00".utf8)
        let line = Self.enrichedLine(type: 1306, payload: payload)
        #expect(line.filter { $0 == 0x0A }.count == 1)
        #expect(line.last == 0x0A)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("SADDR={ saddr_fam=local path=/tmp/a type=USER_LOGIN msg=audit(1700000000.000:99): pid=1 uid=0 res=success }"))
    }

    /// The fuzzer's own input: a SOCKADDR whose text is mangled around a local address with 0x0A.
    @Test func theFuzzersSockaddrInputStaysOneLine() {
        let input: [UInt8] = [
            0x61, 0x75, 0x64, 0x4f, 0x70, 0x74, 0x69, 0x6f, 0x6e, 0xac, 0x61, 0x6c, 0x69, 0x74,
            0x28, 0x31, 0x37, 0x39, 0x35, 0x37, 0x30, 0x36, 0x35, 0x35, 0x39, 0x2e, 0x38, 0x04, 0x00, 0x3a,
            0x33, 0x3d, 0x15, 0x37, 0x32, 0x31, 0x34, 0x29, 0x3a, 0x20, 0x73, 0x61, 0x64, 0x64, 0x72, 0x3d,
            0x30, 0x31, 0x30, 0x1a, 0x05, 0x30, 0x30, 0x6c, 0x3d, 0x30, 0x20, 0x61, 0x75, 0x30, 0x64, 0x3d,
            0x30, 0x30, 0x28, 0x3a, 0x20, 0x73, 0x61, 0x64, 0x64, 0x72, 0x3d, 0x30, 0x31, 0x30, 0x30, 0x30,
            0x61, 0x1a, 0x05, 0x2a, 0x75, 0x28, 0x31, 0x44, 0x35, 0x35, 0x39, 0x2e, 0x30, 0x30, 0x30, 0x30,
            0x30, 0x30, 0x30, 0x30, 0x30, 0x36,
        ]
        let line = Self.enrichedLine(type: 0x051A, payload: input)
        #expect(line.filter { $0 == 0x0A }.count == 1)
    }
}
