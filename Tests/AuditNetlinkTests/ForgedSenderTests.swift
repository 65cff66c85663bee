import AuditNetlink
import AuditProtocol
import AuditTestKit
import CAudit
import Glibc
import Logging
import Testing

/// A socket pair cannot fake a sender's port id, so this one uses real netlink sockets: another
/// socket of this process sends a record straight to our socket's port id, as a hostile process
/// could. Sending to a port other than the kernel's needs root; it touches no kernel audit state.
@Suite(.timeLimit(.minutes(1)))
struct ForgedSenderTests {
    @Test func aRecordFromAnotherNetlinkSocketIsRefusedAndCounted() throws {
        try Requirement.check(Requirement.root.map { "\($0) to send to a netlink port other than the kernel's" })
        let ours = try AuditSocket.kernel()
        let forger = try AuditSocket.kernel()
        #expect(ours.portID != 0)

        let record = FakeKernel.datagram(.syscall, Array("audit(1700000000.000:1): forged=1".utf8), framing: .unicast)
        let sent = record.withUnsafeBytes { CAudit_send_to_port(forger.descriptor, $0.baseAddress, $0.count, ours.portID) }
        #expect(sent == record.count)

        let client = AuditClient(socket: ours, logger: Logger(label: "test"))
        var delivered = 0
        #expect(try ours.waitReadable(timeoutMilliseconds: 2000).socket)
        client.handleRecords { _, _ in delivered += 1 }
        _ = try client.receiveAvailable()
        #expect(delivered == 0)
        #expect(client.counters.refusedSenders == 1)
        #expect(client.counters.records == 0)
    }
}
