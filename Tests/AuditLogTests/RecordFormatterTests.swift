import AuditProtocol
import AuditLog
import Testing

@Suite struct RecordFormatterTests {
    func line(_ type: UInt16, _ payload: [UInt8], node: String? = nil) -> String {
        let buffer = OutputBuffer(capacity: 4096)
        let formatter = RecordFormatter(nodeName: node)
        payload.withUnsafeBytes { formatter.appendRaw(type: AuditMessageType(type), payload: $0, to: buffer) }
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    func line(_ type: UInt16, _ text: String, node: String? = nil) -> String { line(type, Array(text.utf8), node: node) }

    @Test func writesTheKernelsTextBehindAuditdsPrefix() {
        #expect(line(1300, "audit(1700000000.123:42): arch=c000003e syscall=39")
            == "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=39\n")
    }

    @Test func namesAnUnknownTypeInDecimal() {
        #expect(line(2999, "audit(1.000:1): x") == "type=UNKNOWN[2999] msg=audit(1.000:1): x\n")
    }

    @Test func turnsNewlinesIntoSpacesAndTrimsOneTrailingSpace() {
        #expect(line(1305, "audit(1.000:1): a=1\nb=2\n") == "type=CONFIG_CHANGE msg=audit(1.000:1): a=1 b=2\n")
        #expect(line(1305, "audit(1.000:1): a=1  ") == "type=CONFIG_CHANGE msg=audit(1.000:1): a=1 \n")
    }

    @Test func dropsTrailingNulsAndKeepsWhatFollowsAnInnerNul() {
        #expect(line(1005, Array("audit(1.000:1): msg='a".utf8) + [0] + Array("b'".utf8) + [0, 0])
            == "type=USER msg=audit(1.000:1): msg='a b'\n")
    }

    @Test func prefixesTheNodeName() {
        #expect(line(1300, "audit(1.000:1): x", node: "web1") == "node=web1 type=SYSCALL msg=audit(1.000:1): x\n")
    }
}
