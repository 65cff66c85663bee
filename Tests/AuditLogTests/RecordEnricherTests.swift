import AuditProtocol
import AuditLog
import AuditTestKit
import AuditdGoldenLogs
import Testing

/// The ENRICHED rules one at a time, with names from a table the test controls.
@Suite struct RecordEnricherTests {
    final class Maker {
        let accounts = FixtureAccounts()
        let enricher: RecordEnricher
        let formatter = RecordFormatter()
        let buffer = OutputBuffer(capacity: 64 * 1024)
        nonisolated(unsafe) var now: Int64 = 0

        init(missLifetime: Int64 = 0) {
            accounts.setUser(1000, "alice")
            accounts.setGroup(1000, "staff")
            nonisolated(unsafe) var clock: (() -> Int64)?
            enricher = RecordEnricher(directory: accounts, missLifetime: missLifetime, clock: { clock?() ?? 0 })
            clock = { [unowned self] in self.now }
        }

        /// The whole line (without its newline) for a record of `type` with `body` after the stamp.
        func line(_ type: UInt16, _ body: String) -> String {
            buffer.consume(buffer.count)
            Array("audit(1700000000.000:1): \(body)".utf8).withUnsafeBytes { payload in
                formatter.appendRawText(type: AuditMessageType(type), payload: payload, to: buffer)
                enricher.appendInterpretations(type: AuditMessageType(type), lineStart: 0, to: buffer)
            }
            return String(decoding: buffer.bytes, as: UTF8.self)
        }

        /// Only what follows the 0x1D, or nil when there is none.
        func interpretations(_ type: UInt16, _ body: String) -> String? {
            let whole = line(type, body)
            guard let separator = whole.firstIndex(of: "\u{1D}") else { return nil }
            return String(whole[whole.index(after: separator)...])
        }
    }

    static let syscall: UInt16 = 1300, user: UInt16 = 1005, userLogin: UInt16 = 1112, sockaddr: UInt16 = 1306

    // MARK: - Users and groups (audit_encode_nv_string)

    @Test func namesAreQuoted() {
        let maker = Maker()
        #expect(maker.interpretations(Self.syscall, "uid=1000 gid=1000") == "UID=\"alice\" GID=\"staff\"")
    }

    @Test func rootAndUnsetAreWrittenWithoutALookup() {
        let maker = Maker()
        #expect(maker.interpretations(Self.syscall, "auid=4294967295 uid=0 gid=0 euid=-1") == "AUID=\"unset\" UID=\"root\" GID=\"root\" EUID=\"unset\"")
        #expect(maker.accounts.questions == 0)
    }

    @Test func anUnknownIdIsUnknownWithItsSignedNumber() {
        let maker = Maker()
        #expect(maker.interpretations(Self.syscall, "uid=1234 gid=3000000000") == "UID=\"unknown(1234)\" GID=\"unknown(-1294967296)\"")
    }

    @Test func aNameWithAQuoteIsHexEncoded() {
        let maker = Maker()
        maker.accounts.setUser(1001, "bo\"b")
        #expect(maker.interpretations(Self.syscall, "uid=1001") == "UID=626F2262")
    }

    @Test func aNameWithAByteBelow0x21IsHexEncoded() {
        let maker = Maker()
        maker.accounts.setUser(1001, "a b")
        maker.accounts.setUser(1002, "a\tb")
        #expect(maker.interpretations(Self.syscall, "uid=1001 suid=1002") == "UID=612062 SUID=610962")
    }

    @Test func aNameWithAByteAbove0x7EIsHexEncoded() {
        let maker = Maker()
        maker.accounts.setUser(1001, "j\u{F6}rg")  // ö is C3 B6 in UTF-8
        maker.accounts.setUser(1002, "del\u{7F}")
        #expect(maker.interpretations(Self.syscall, "uid=1001 euid=1002") == "UID=6AC3B67267 EUID=64656C7F")
    }

    @Test func printableEdgesAreNotEncoded() {
        let maker = Maker()
        maker.accounts.setUser(1001, "!~")
        #expect(maker.interpretations(Self.syscall, "uid=1001") == "UID=\"!~\"")
    }

    @Test func aNumberThatOverflowsIsAConversionErrorInHex() {
        let maker = Maker()
        // "conversion error(99999999999999999999)" holds spaces.
        let hex = Array("conversion error(99999999999999999999)".utf8).map { String($0, radix: 16, uppercase: true) }.joined()
        #expect(maker.interpretations(Self.syscall, "uid=99999999999999999999") == "UID=\(hex)")
    }

    @Test func idInAGroupRecordIsAGroup() {
        let maker = Maker()
        #expect(maker.interpretations(1116, "pid=1 uid=0 msg='op=add id=1000 res=success'") == "UID=\"root\" ID=\"staff\"")
        #expect(maker.interpretations(1114, "pid=1 uid=0 msg='op=add id=1000 res=success'") == "UID=\"root\" ID=\"alice\"")
    }

    // MARK: - The name cache

    @Test func theDirectoryIsAskedOncePerName() {
        let maker = Maker()
        for _ in 0..<100 { _ = maker.line(Self.syscall, "uid=1000 euid=1000 gid=1000") }
        #expect(maker.accounts.questions == 2)
    }

    @Test func aCachedNameStaysUntilAUserManagementRecord() {
        let maker = Maker()
        #expect(maker.interpretations(Self.syscall, "uid=1000") == "UID=\"alice\"")
        maker.accounts.setUser(1000, "alicia")
        #expect(maker.interpretations(Self.syscall, "uid=1000") == "UID=\"alice\"")
        // USER_MGMT flushes after it is written: it still shows the old name.
        #expect(maker.interpretations(1102, "pid=1 uid=0 msg='op=rename id=1000 res=success'") == "UID=\"root\" ID=\"alice\"")
        #expect(maker.interpretations(Self.syscall, "uid=1000") == "UID=\"alicia\"")
    }

    @Test func addUserFlushesBeforeItIsWritten() {
        let maker = Maker()
        _ = maker.line(Self.syscall, "uid=1000")
        maker.accounts.setUser(1000, "alicia")
        #expect(maker.interpretations(1114, "pid=1 uid=0 msg='op=add id=1000 res=success'") == "UID=\"root\" ID=\"alicia\"")
    }

    @Test func deletionsFlushAfterTheyAreWritten() {
        for type: UInt16 in [1115, 1117, 1132] {
            let maker = Maker()
            _ = maker.line(Self.syscall, "uid=1000")
            maker.accounts.setUser(1000, nil)
            #expect(maker.interpretations(type, "pid=1 uid=1000 res=success") == "UID=\"alice\"")
            #expect(maker.interpretations(Self.syscall, "uid=1000") == "UID=\"unknown(1000)\"")
        }
    }

    @Test func anotherIdInTheSameSlotEvictsAName() {
        let maker = Maker()
        maker.accounts.setUser(1019, "bob")  // 1000 and 1019 share slot 1000 % 19
        _ = maker.line(Self.syscall, "uid=1000")
        maker.accounts.setUser(1000, "alicia")
        #expect(maker.interpretations(Self.syscall, "uid=1000 uid=1019 uid=1000") == "UID=\"alice\" UID=\"bob\" UID=\"alicia\"")
    }

    @Test func aMissIsAskedAgainEachTimeLikeAuditd() {
        let maker = Maker(missLifetime: 0)
        for _ in 0..<5 { _ = maker.line(Self.syscall, "uid=4321") }
        #expect(maker.accounts.questions == 5)
    }

    @Test func aMissIsRememberedForItsLifetime() {
        let maker = Maker(missLifetime: 100)
        for _ in 0..<5 { _ = maker.line(Self.syscall, "uid=4321") }
        #expect(maker.accounts.questions == 1)
        maker.accounts.setUser(4321, "late")
        maker.now = 99
        #expect(maker.interpretations(Self.syscall, "uid=4321") == "UID=\"unknown(4321)\"")
        maker.now = 100
        #expect(maker.interpretations(Self.syscall, "uid=4321") == "UID=\"late\"")
    }

    @Test func aLongNameIsCutAt63Bytes() {
        let maker = Maker()
        maker.accounts.setUser(1001, String(repeating: "n", count: 70))
        #expect(maker.interpretations(Self.syscall, "uid=1001") == "UID=\"\(String(repeating: "n", count: 63))\"")
    }

    // MARK: - SYSCALL and ARCH

    @Test func archAndSyscallAreNamedForTheRecordsMachine() {
        let maker = Maker()
        #expect(maker.interpretations(Self.syscall, "arch=c000003e syscall=59 success=yes") == "ARCH=x86_64 SYSCALL=execve")
        #expect(maker.interpretations(Self.syscall, "arch=40000003 syscall=11 success=yes") == "ARCH=i386 SYSCALL=execve")
        #expect(maker.interpretations(Self.syscall, "arch=c00000b7 syscall=221 success=yes") == "ARCH=aarch64 SYSCALL=execve")
    }

    @Test func aSyscallOutOfPlaceIsUnknown() {
        let maker = Maker()
        #expect(maker.interpretations(Self.user, "pid=1 uid=0 msg='arch=c000003e syscall=59'") == "UID=\"root\" ARCH=x86_64 SYSCALL=unknown-syscall(-1)")
    }

    // MARK: - SADDR

    @Test func inetAddress() {
        let maker = Maker()
        #expect(maker.interpretations(Self.sockaddr, "saddr=020000357F0000010000000000000000") == "SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=53 }")
    }

    @Test func inet6Address() {
        let maker = Maker()
        #expect(maker.interpretations(Self.sockaddr, "saddr=0A0001BB000000002001" + "0DB8000000000000000000000001" + "00000000")
            == "SADDR={ saddr_fam=inet6 laddr=2001:db8::1 lport=443 }")
    }

    @Test func localPathAndAbstractName() {
        let maker = Maker()
        #expect(maker.interpretations(Self.sockaddr, "saddr=01002F72756E2F782E736F636B00") == "SADDR={ saddr_fam=local path=/run/x.sock }")
        #expect(maker.interpretations(Self.sockaddr, "saddr=0100006162") == "SADDR={ saddr_fam=local path=ab }")
    }

    @Test func unnamedLocalSocketIsTooShortAsIn309() {
        let maker = Maker()
        #expect(maker.interpretations(Self.sockaddr, "saddr=0100") == "SADDR={ saddr_fam=local sockaddr len too short }")
    }

    @Test func netlinkAddress() {
        let maker = Maker()
        #expect(maker.interpretations(Self.sockaddr, "saddr=10000000D2040000FFFFFFFF") == "SADDR={ saddr_fam=netlink nlnk-fam=16 nlnk-pid=1234 }")
        #expect(maker.interpretations(Self.sockaddr, "saddr=1000000000000000") == "SADDR={ saddr_fam=netlink len too short }")
    }

    @Test func otherFamilies() {
        let maker = Maker()
        #expect(maker.interpretations(Self.sockaddr, "saddr=11000000") == "SADDR={ saddr_fam=packet (unsupported) }")
        #expect(maker.interpretations(Self.sockaddr, "saddr=0000") == "SADDR=unknown-family(0)")
        #expect(maker.interpretations(Self.sockaddr, "saddr=0") == "SADDR=malformed-host(0)")
    }

    // MARK: - Which records and fields

    @Test func aRecordWithoutInterpretableFieldsIsItsRawLine() {
        let maker = Maker()
        let body = "cwd=\"/root\""
        #expect(maker.line(1307, body) == "type=CWD msg=audit(1700000000.000:1): \(body)")
        #expect(maker.line(1327, "proctitle=2F62696E2F7368") == "type=PROCTITLE msg=audit(1700000000.000:1): proctitle=2F62696E2F7368")
    }

    @Test func oneSeparatorThenPairsInRecordOrder() {
        let maker = Maker()
        #expect(maker.line(Self.syscall, "arch=c000003e syscall=39 uid=0 comm=\"x\" saddr=0100 gid=1000")
            == "type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=39 uid=0 comm=\"x\" saddr=0100 gid=1000"
            + "\u{1D}ARCH=x86_64 SYSCALL=getpid UID=\"root\" SADDR={ saddr_fam=local sockaddr len too short } GID=\"staff\"")
    }

    @Test func fieldsInsideAUserMessageAreRead() {
        let maker = Maker()
        #expect(maker.interpretations(Self.userLogin, "pid=1 uid=0 auid=1000 ses=1 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" res=success'")
            == "UID=\"root\" AUID=\"alice\" ID=\"alice\"")
    }

    @Test func recordTypesThatKeepFieldsRaw() {
        let maker = Maker()
        #expect(maker.interpretations(1309, "argc=2 a0=\"ls\" a1=\"-l\"") == nil)  // EXECVE
        #expect(maker.interpretations(1121, "pid=1 uid=0 auid=0") == nil)  // TRUSTED_APP
        #expect(maker.interpretations(1400, "avc:  denied  { read } for pid=1 saddr=0100") == nil)  // AVC
    }

    @Test func theTrailingSpaceIsTrimmedBeforeTheSeparator() {
        // format_raw trims one trailing space (a newline became one) before format_enrich adds
        // the 0x1D behind the text; a second trailing space stays.
        let maker = Maker()
        #expect(maker.line(Self.syscall, "uid=0\n") == "type=SYSCALL msg=audit(1700000000.000:1): uid=0\u{1D}UID=\"root\"")
        #expect(maker.line(Self.syscall, "uid=0  ") == "type=SYSCALL msg=audit(1700000000.000:1): uid=0 \u{1D}UID=\"root\"")
    }

    @Test func aLineWithoutAStampIsNotEnriched() {
        let maker = Maker()
        let buffer = OutputBuffer(capacity: 1024)
        Array("uid=0 gid=0".utf8).withUnsafeBytes { payload in
            maker.formatter.appendRawText(type: AuditMessageType(Self.syscall), payload: payload, to: buffer)
            maker.enricher.appendInterpretations(type: AuditMessageType(Self.syscall), lineStart: 0, to: buffer)
        }
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == "type=SYSCALL msg=uid=0 gid=0")
    }

    @Test func theLineIsCutAt8969Bytes() {
        let maker = Maker()
        let body = "text=" + String(repeating: "p", count: 8600) + String(repeating: " uid=0", count: 40)
        let line = maker.line(Self.user, body)
        #expect(line.utf8.count == 8969)
        #expect(line.contains("\u{1D}UID=\"root\" UID=\"root\""))
    }
}
