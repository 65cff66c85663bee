@testable import AuditLog
import AuditProtocol
import AuditTestKit
import AuditdGoldenLogs
import Testing

/// The enricher skims a line past its 6th field for the names auditd interprets; the lines it
/// writes must be byte for byte those of reading every field as auparse splits them.
@Suite struct RecordFieldsSkimTests {
    /// Two enrichers, one skimming and one reading every field, on the same names.
    static func enrichers() -> (skimming: RecordEnricher, reading: RecordEnricher) {
        let accounts = FixtureAccounts()
        accounts.setUser(1000, "alice")
        accounts.setGroup(1000, "staff")
        return (RecordEnricher(directory: accounts, missLifetime: 0, clock: { 0 }, skimsFields: true),
                RecordEnricher(directory: accounts, missLifetime: 0, clock: { 0 }, skimsFields: false))
    }

    static func line(type: UInt16, body: String, enricher: RecordEnricher, buffer: OutputBuffer) -> [UInt8] {
        buffer.consume(buffer.count)
        Array("audit(1700000000.000:1): \(body)".utf8).withUnsafeBytes { raw in
            RecordFormatter().appendRawText(type: AuditMessageType(type), payload: raw, to: buffer)
            enricher.appendInterpretations(type: AuditMessageType(type), lineStart: 0, to: buffer)
        }
        return Array(buffer.bytes)
    }

    /// Tokens that name, hide or break fields in the ways auparse's split allows.
    static let tokens = [
        "uid=1000", "auid=0", "gid=1000", "egid=4294967295", "fsuid=1000", "ouid=12", "id=1000", "inode_uid=0",
        "old-auid=1000", "obj_gid=1000", "new_gid=5", "(uid=1000", "((gid=0", "uid=", "uid==1", "a=uid=1",
        "msg='uid=1000", "msg='a=1", "msg='op=x", "msg=audit(1:2):", "msg=uid=3", "msg='", "key=uid=1",
        "key=\"k\"", "key=6B6579", "arch=c000003e", "arch=40000003", "syscall=42", "syscall=102", "a0=3",
        "saddr=02000050C0A80001", "saddr=0100", "pid=3", "ppid=4", "comm=\"a b\"", "x", "id", "=uid",
        "uid=1000,", "uid=1000)", "gid=(none)", "uid=1000'", "item=0", "node=host", "euid=-1",
        "suid=99999999999999999999", "arch=zz", "  ", "a1=uid=2", "said=1", "uid=1000:", "ch=1", "ll=2",
    ]

    @Test(arguments: [1300, 1112, 1102, 1116, 1309, 1306, 1107, 1400, 1327])
    func skimmedLinesAreTheLinesOfReadingEveryField(type: Int) {
        var seed: UInt64 = 0x5EED_0000 &+ UInt64(type)
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(bound))
        }
        let (skimming, reading) = Self.enrichers()
        let buffer = OutputBuffer(capacity: 64 * 1024)
        for _ in 0..<400 {
            let count = 1 + next(16)
            let body = (0..<count).map { _ in Self.tokens[next(Self.tokens.count)] }.joined(separator: " ")
            let skimmed = Self.line(type: UInt16(type), body: body, enricher: skimming, buffer: buffer)
            let read = Self.line(type: UInt16(type), body: body, enricher: reading, buffer: buffer)
            #expect(skimmed == read, "type \(type): \(body)")
            if skimmed != read { return }
        }
    }
}

/// `CNumber` reads values of digits only without strtoul's machinery; they must read the same.
@Suite struct CNumberTests {
    static func parse(_ text: String, base: UInt64) -> (UInt64, Bool) {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { CNumber.parse($0, base: base) }
    }

    @Test func digitsReadAsStrtoulReadsThem() {
        let digits = Array("0123456789abcdefABCDEF")
        var seed: UInt64 = 7
        for _ in 0..<5000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let base: UInt64 = seed >> 63 == 0 ? 10 : 16
            let length = 1 + Int((seed >> 40) % 20)
            let text = String((0..<length).map { index in
                digits[Int((seed >> UInt64(index % 40)) % (base == 10 ? 10 : UInt64(digits.count)))]
            })
            let (value, overflow) = Self.parse(text, base: base)
            if let expected = UInt64(text, radix: Int(base)) {
                #expect(!overflow && value == expected, "\(text) base \(base)")
            } else {
                #expect(overflow && value == UInt64.max, "\(text) base \(base)")
            }
        }
    }

    @Test func otherTextsStillReadAsStrtoulReadsThem() {
        #expect(Self.parse("0x1f", base: 16) == (31, false))
        #expect(Self.parse(" 42", base: 10) == (42, false))
        #expect(Self.parse("-1", base: 10) == (UInt64.max, false))
        #expect(Self.parse("12ab", base: 10) == (12, false))
        #expect(Self.parse("18446744073709551616", base: 10) == (UInt64.max, true))
        #expect(Self.parse("", base: 10) == (0, false))
    }
}
