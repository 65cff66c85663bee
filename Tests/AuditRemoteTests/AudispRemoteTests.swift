import AuditRemote
import AuditTestKit
import Foundation
import RemoteProtocol
import Testing

/// Debian's audisp-remote 3.0.9 as the client, the listener as the server: what it sends arrives
/// whole, in order, and each record is acknowledged (audisp-remote exits 0 only with an empty
/// queue, and drops a record from it only on the ACK with its sequence id).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AudispRemoteTests {
    static func records(_ count: Int, node: String? = nil) -> [String] {
        (1...count).map { serial in
            (node.map { "node=\($0) " } ?? "")
                + "type=USER msg=audit(1733300000.\(String(format: "%03d", serial % 1000)):\(serial)): pid=\(serial) uid=0 auid=0 ses=1 "
                + "msg='op=remote-test serial=\(serial) res=success'"
        }
    }

    @Test func everyRecordArrivesInOrderAndIsAcknowledged() async throws {
        try Requirement.check(AudispRemote.unavailable)
        let directory = try TemporaryDirectory("swift-auditd-remote")
        defer { directory.remove() }
        let sink = try FileSink(path: directory.appending("received.log"))
        var settings = RemoteListenerSettings()
        settings.useLibwrap = false
        let listener = RemoteListener(configuration: RemoteListenerConfiguration(settings: settings), sink: sink, logger: quietLogger)
        let port = try await listener.start().first?.port ?? 0
        let sent = Self.records(500) + Self.records(3, node: "client1")
        let status = try AudispRemote.withConfiguration(server: "127.0.0.1", port: port) {
            try AudispRemote.send(sent)
        }
        #expect(status == 0, "audisp-remote's queue was not empty when it exited")
        #expect(try directory.lines(of: "received.log") == sent)
        #expect(eventually { sink.listenerLines.count == 2 })
        #expect(sink.listenerLines.first?.hasPrefix("type=DAEMON_ACCEPT addr=::ffff:127.0.0.1 port=") == true)
        #expect(sink.listenerLines.last?.hasPrefix("type=DAEMON_CLOSE addr=::ffff:127.0.0.1 port=") == true)
        await listener.stop()
    }

    @Test func aClientHostReachesTheServerOverItsOwnLink() async throws {
        try Requirement.check(AudispRemote.unavailable ?? Requirement.executable("/usr/sbin/ip", package: "iproute2"))
        let host = try ClientHost()
        defer { host.remove() }
        let directory = try TemporaryDirectory("swift-auditd-remote")
        defer { directory.remove() }
        let sink = try FileSink(path: directory.appending("received.log"))
        var settings = RemoteListenerSettings()
        settings.useLibwrap = false
        var configuration = RemoteListenerConfiguration(settings: settings)
        configuration.host = host.serverAddress
        let listener = RemoteListener(configuration: configuration, sink: sink, logger: quietLogger)
        let port = try await listener.start().first?.port ?? 0
        let sent = Self.records(200, node: "client-host")
        let status = try AudispRemote.withConfiguration(server: host.serverAddress, port: port) {
            try AudispRemote.send(sent, prefix: host.exec)
        }
        #expect(status == 0)
        #expect(try directory.lines(of: "received.log") == sent)
        #expect(eventually { sink.listenerLines.count == 2 })
        // Bound to an IPv4 address, the listener sees the client as auditd's IPv4 socket would.
        #expect(sink.listenerLines.first?.hasPrefix("type=DAEMON_ACCEPT addr=\(host.clientAddress) port=") == true)
        await listener.stop()
    }
}
