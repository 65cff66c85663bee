import AuditRemote
import AuditTestKit
import Foundation
import RemoteProtocol
import Testing

/// The listener against what Debian's auditd 3.0.9 did as a central server, recorded in
/// Tests/Fixtures/remote-auditd-3.0.9 (its README says how): the same client bytes give the same
/// records handed on, the same reply bytes, and DAEMON_ACCEPT/DAEMON_CLOSE texts of the same form.
@Suite(.timeLimit(.minutes(1)))
struct AuditdCentralGoldenTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/remote-auditd-3.0.9")

    static func lines(_ name: String) throws -> [String] {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// `type=T msg=audit(...): TEXT` → (T, TEXT), without a leading `node=`.
    static func split(_ line: String) -> (type: String, text: String) {
        var rest = Substring(line)
        if rest.hasPrefix("node="), let space = rest.firstIndex(of: " ") { rest = rest[rest.index(after: space)...] }
        let type = rest.dropFirst("type=".count).prefix { $0 != " " }
        let text = rest.range(of: "): ").map { rest[$0.upperBound...] } ?? ""
        return (String(type), String(text))
    }

    /// The client's port in auditd's log replaced by ours.
    static func withPort(_ text: String, _ port: UInt16) -> String {
        text.replacingOccurrences(of: #"port=[0-9]+"#, with: "port=\(port)", options: .regularExpression)
    }

    @Test func recordsRepliesAndConnectionTextsMatchAuditds() async throws {
        let golden = try Self.lines("central-enriched.log")
        let replies = try Self.lines("replies.txt").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: " ")[1] }
        try await withListener { _, port, sink in
            // managed-client.py, byte for byte.
            let client = try TestClient(port: port)
            let clientPort = client.localPort
            var replyHex: [String] = []
            let hex: ([UInt8]) -> String = { $0.map { String(format: "%02x", $0) }.joined() }
            try client.sendRecord("type=USER msg=audit(1733300001.000:201): pid=3 uid=0 auid=0 ses=1 msg='op=framed res=success'", sequenceID: 5)
            replyHex.append(hex(try client.receive(16)))
            try client.send(RemoteFrameHeader(type: .heartbeat, length: 0, sequenceID: 6).bytes)
            replyHex.append(hex(try client.receive(16)))
            try client.sendRecord("node=client2 type=USER msg=audit(1733300001.000:202): x=1\n", sequenceID: 7)
            replyHex.append(hex(try client.receive(16)))
            #expect(replyHex == replies.map(String.init))
            let second = try TestClient(port: port)
            #expect(second.isClosedByServer())

            // auditd's log from its DAEMON_ACCEPT of managed-client.py's connection on.
            let start = try #require(golden.lastIndex { $0.contains("DAEMON_ACCEPT") && !$0.contains("op=") })
            let theirs = golden[start...]
            let theirRecords = theirs.filter { !$0.contains("type=DAEMON_") }
            #expect(sink.texts == Array(theirRecords), "records are handed on as the client sent them, as auditd logs them")
            #expect(eventually { sink.listenerLines.count == 2 })
            let connectionLines = theirs.filter { $0.contains("type=DAEMON_") }.map(Self.split)
            #expect(sink.listenerLines(port: clientPort).first
                == "type=DAEMON_ACCEPT " + Self.withPort(connectionLines[0].text, clientPort))
            #expect(sink.listenerLines(port: second.localPort)
                == ["type=DAEMON_ACCEPT " + Self.withPort(connectionLines[1].text, second.localPort)])
            #expect(connectionLines[1].text.hasPrefix("op=dup "))
            client.hangUp()
            #expect(eventually { sink.listenerLines.count == 3 })
            #expect(sink.listenerLines.last == "type=DAEMON_CLOSE " + Self.withPort(connectionLines[2].text, clientPort))
        }
    }

    @Test func aRefusedPortHasAuditdsText() async throws {
        let golden = try Self.lines("central-raw-name-user.log").map(Self.split)
        let refusal = try #require(golden.first { $0.text.hasPrefix("op=port ") })
        try await withListener({ $0.settings.clientPorts = 1...1023 }) { _, port, sink in
            let client = try TestClient(port: port)
            #expect(client.isClosedByServer())
            #expect(sink.listenerLines == ["type=\(refusal.type) " + Self.withPort(refusal.text, client.localPort)])
        }
    }
}
