@testable import AuditInterpretation
import AuditEvents
import AuditTestKit
import AuditdGoldenLogs
import Testing

/// A record printed from the memo must be what the walk, and ausearch, print for it where it is:
/// these are the cases where a key that left out something the text depends on would print an
/// earlier record's text.
@Suite struct InterpretedRecordMemoTests {
    /// `log` again, each stamp moved on by `seconds` and `serials` (as `make bench-events` builds
    /// its log): the same records, in events of other stamps.
    static func moved(_ log: [UInt8], seconds: Int, serials: Int) -> [UInt8] {
        var result: [UInt8] = []
        for line in log.split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            guard let open = text.range(of: "audit("), let close = text[open.upperBound...].firstIndex(of: ")") else {
                result += line + [0x0A]
                continue
            }
            let stamp = text[open.upperBound..<close]
            let parts = stamp.split(whereSeparator: { $0 == "." || $0 == ":" })
            let second = Int(parts[0])! + seconds, milli = parts[1], serial = Int(parts[2])! + serials
            result += Array("\(text[..<open.upperBound])\(second).\(milli):\(serial)\(text[close...])\n".utf8)
        }
        return result
    }

    /// Every record of the golden logs seen a second and third time, in later events: each is
    /// printed from the memo, with its own event's time and serial.
    @Test(arguments: ["audit-enriched.log", "audit-raw.log"])
    func recordsSeenAgainPrintAsAusearchPrintsThem(name: String) throws {
        try Requirement.check(InterpretedEventFormatterTests.ausearchMissing)
        let golden = try AuditdGoldenLog.bytes(name)
        let log = golden + Self.moved(golden, seconds: 100_000, serials: 10_000_000)
            + Self.moved(golden, seconds: 200_003, serials: 20_000_000)
        let expected = try ausearch(log)
        let got = interpreted(log)
        let same = got == expected
        #expect(same, "\(name): \(firstDifference(expected, got))")
    }

    /// A SECCOMP record's `a2` is read against the `a1` of the last SYSCALL record printed (open's
    /// mode only with `O_CREAT`): the same bytes print `0666` after one SYSCALL and `0x1b6` after
    /// another, so its entry holds only under the arguments it was read with.
    @Test func aRecordReadAgainstTheSystemCallsArgumentsIsNotReusedUnderOthers() throws {
        try Requirement.check(InterpretedEventFormatterTests.ausearchMissing)
        func syscall(_ serial: Int, a1: String) -> String {
            "type=SYSCALL msg=audit(1700000001.\(serial):\(serial)): arch=c000003e syscall=2 success=yes exit=3 a0=7ffd0000 a1=\(a1) a2=1b6 a3=0 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"touch\" exe=\"/bin/touch\" key=(null)\n"
                + "type=PROCTITLE msg=audit(1700000001.\(serial):\(serial)): proctitle=746F756368\n"
        }
        func seccomp(_ serial: Int) -> String {
            "type=SECCOMP msg=audit(1700000001.\(serial):\(serial)): auid=0 uid=0 gid=0 ses=3 pid=2 comm=\"x\" exe=\"/bin/x\" sig=0 arch=c000003e syscall=2 compat=0 ip=0x7f a2=1b6 code=0x7ffc0000\n"
        }
        let log = Array((syscall(100, a1: "241") + seccomp(150) + syscall(200, a1: "0") + seccomp(250)
            + syscall(300, a1: "241") + seccomp(350)).utf8)
        let expected = try ausearch(log)
        let got = interpreted(log)
        let text = String(decoding: got, as: UTF8.self)
        #expect(text.contains(":150) : auid=root") && text.contains("a2=0666 code=log"))
        #expect(text.contains("a2=0x1b6 code=log"), "the second SECCOMP record is read against a1=0")
        let same = got == expected
        #expect(same, "\(firstDifference(expected, got))")
    }

    /// Two records alike but for their ENRICHED part print the names each one carries, and a
    /// record alike but for its node name prints its own node.
    @Test func recordsAlikeButForTheirEnrichedNamesOrNodePrintTheirOwn() throws {
        try Requirement.check(InterpretedEventFormatterTests.ausearchMissing)
        func login(_ serial: Int, auid: String, node: String? = nil) -> String {
            (node.map { "node=\($0) " } ?? "")
                + "type=USER_LOGIN msg=audit(1700000002.\(serial):\(serial)): pid=7 uid=0 auid=1000 ses=4 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=sshd res=success'\u{1D}UID=\"root\" AUID=\"\(auid)\" ID=\"\(auid)\"\n"
        }
        let log = Array((login(100, auid: "alice") + login(200, auid: "bob") + login(300, auid: "alice")
            + login(400, auid: "alice", node: "web1") + login(500, auid: "alice", node: "web2")).utf8)
        let expected = try ausearch(log)
        let got = interpreted(log)
        let text = String(decoding: got, as: UTF8.self)
        #expect(text.contains("auid=bob") && text.contains("auid=alice"))
        #expect(text.contains("node=web1 type=USER_LOGIN") && text.contains("node=web2 type=USER_LOGIN"))
        let same = got == expected
        #expect(same, "\(firstDifference(expected, got))")
    }

    /// The stamp is cut out of the key exactly where the walk finds it; where the walk would not
    /// find it the same way, nothing is remembered.
    @Test func theStampIsFoundWhereTheWalkFindsIt() {
        func stamp(_ text: String, hasNode: Bool = false) -> (Int, Int)? {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer {
                InterpretedRecordMemo.stamp(in: $0, messageEnd: bytes.count, hasNode: hasNode).map { ($0.open, $0.close) }
            }
        }
        #expect(stamp("type=EOE msg=audit(1.2:3): ")! == (18, 24))
        // With a node name the search starts after the first space, as the walk's does.
        #expect(stamp("node=a(b) type=EOE msg=audit(1.2:3): ", hasNode: true)! == (28, 34))
        #expect(stamp("node=a(b) type=EOE msg=audit(1.2:3): ")! == (6, 8))
        #expect(stamp("type=EOE msg=audit1.2:3: x") == nil)
        #expect(stamp("type=EOE msg=audit(1.2:3 x") == nil)
        #expect(stamp("type=EOE\0 msg=audit(1.2:3): x") == nil)
        #expect(stamp("type=EOE msg=audit(1.2\0:3): x") == nil)
    }
}
