import AuditTestKit
import Foundation
import RemoteProtocol
import Testing

/// The listener in a process of its own (`swift-auditd-remote-sink`, built beside the tests),
/// killed with SIGKILL in the middle of a stream: every record a client had an ACK for is in the
/// file, because the ACK leaves only after the record's write.
@Suite(.timeLimit(.minutes(1)))
struct RemoteSinkProcessTests {
    static var binary: String {
        URL(fileURLWithPath: builtDaemonPath()).deletingLastPathComponent().appendingPathComponent("swift-auditd-remote-sink").path
    }

    @Test func everyAcknowledgedRecordSurvivesAKill() throws {
        try Requirement.check(FileManager.default.isExecutableFile(atPath: Self.binary) ? nil
            : "swift-auditd-remote-sink is not built at \(Self.binary) (swift build --build-tests builds it)")
        let directory = try TemporaryDirectory("swift-auditd-remote-kill")
        defer { directory.remove() }
        let log = directory.appending("received.log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--log", log]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        // "listening on PORT"
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(Int(line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let client = try TestClient(port: port)
        var acknowledged: [String] = []
        for serial in 1...300 {
            let record = "type=USER msg=audit(1733300000.000:\(serial)): pid=\(serial) uid=0 msg='op=kill-test res=success'"
            try client.sendRecord(record, sequenceID: UInt32(serial))
            if serial == 300 { break }  // the last one's ACK is not waited for
            #expect(try client.receiveReply().header == RemoteFrameHeader(type: .ack, length: 0, sequenceID: UInt32(serial)))
            acknowledged.append(record)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let written = try directory.lines(of: "received.log").filter { $0.hasPrefix("type=USER ") }
        #expect(Array(written.prefix(acknowledged.count)) == acknowledged)
    }
}
