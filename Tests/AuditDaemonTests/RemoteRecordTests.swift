@testable import AuditDaemon
import AuditLog
import AuditProtocol
import AuditTestKit
import Testing

/// The central server's record path without a network: a client's line into the log and its type
/// for the plugins.
@Suite(.timeLimit(.minutes(1)))
struct RemoteRecordTests {
    static func type(of line: String) -> UInt16 {
        Array(line.utf8).withUnsafeBytes { RemoteRecordType.extract(from: $0).rawValue }
    }

    @Test func theTypeIsReadFromTypeEqualsPastANodePrefixAsAuditdsExtractType() {
        #expect(Self.type(of: "type=USER msg=audit(1.000:1): x=1") == 1005, "AUDIT_USER")
        #expect(Self.type(of: "node=client1 type=SYSCALL msg=audit(1.000:1): x=1") == 1300)
        #expect(Self.type(of: "type=DAEMON_START msg=audit(1.000:1): x") == 1200)
        #expect(Self.type(of: "no type here") == 0)
        #expect(Self.type(of: "type=") == 0)
        #expect(Self.type(of: "type=PROCTITLE") == 1327, "a name that ends the line")
        #expect(Self.type(of: "type=\(String(repeating: "A", count: 64)) msg=audit(1.000:1): x") == 0, "a name past any type's length")
    }

    @Test func aClientsLineIsWrittenAsSentAndItsOrdinalIsOnDiskAfterTheWrite() throws {
        let directory = try TemporaryDirectory("swift-auditd-remote-record")
        defer { directory.remove() }
        let path = directory.appending("audit.log")
        // The server's node name and ENRICHED: neither touches a client's line.
        let writer = try AuditLogWriter(path: path, format: .enriched, formatter: RecordFormatter(nodeName: "central"))
        let lines = ["node=client1 type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 uid=0 auid=0",
                     "type=USER msg=audit(1.000:2): pid=1 uid=0 msg='x'"]
        var ordinals: [UInt64] = []
        for line in lines {
            let written = Array(line.utf8).withUnsafeBytes { writer.appendVerbatim($0).map { Array($0) } }
            #expect(written == Array(line.utf8))
            ordinals.append(writer.linesAppended)
        }
        #expect(ordinals == [1, 2])
        #expect(writer.recordsWritten == 0, "nothing is on disk before the write: no ACK may leave")
        try writer.flush()
        #expect(writer.recordsWritten >= ordinals.last!)
        #expect(try directory.lines(of: "audit.log") == lines)
    }
}
