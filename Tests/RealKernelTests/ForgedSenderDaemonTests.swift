import AuditNetlink
import AuditProtocol
import AuditTestKit
import CAudit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// The daemon binary, registered with this machine's kernel, against another process sending audit
    /// records straight to its netlink port: none is written, each is counted and reported.
    @Suite(.timeLimit(.minutes(2)))
    struct ForgedSenderDaemonTests {
        @Test func realKernelRecordsForgedToTheDaemonsPortAreRefusedCountedAndReported() async throws {
            try await RealKernel.withExclusiveUse(requiring: { Requirement.daemonBinary() }) {
                let directory = try TemporaryDirectory("swift-auditd-forged")
                defer { directory.remove() }
                let logPath = try AuditdConf(in: directory).write(to: directory)
                let daemon = try DaemonProcess.registered(in: directory)
                let port = try #require(daemon.auditSocket()?.port, "no NETLINK_AUDIT socket found for pid \(daemon.pid)")
                print("forged senders: the daemon (pid \(daemon.pid)) listens on netlink port \(port)")

                // Every kind a forger might try: records of several types in both framings, a fake
                // AUDIT_GET reply and a fake ACK, as the kernel would frame them.
                let token = UInt32.random(in: 0...UInt32.max)
                let forger = try AuditSocket.kernel()
                let types: [AuditMessageType] = [.syscall, .user, .kernel, .configChange, .processTitle]
                var forged: [[UInt8]] = []
                for (index, type) in types.enumerated() {
                    let payload = Array("audit(1700000000.000:\(index + 1)): forged-\(token) n=\(index)".utf8)
                    forged.append(FakeKernel.datagram(type, payload, framing: .unicast))
                    forged.append(FakeKernel.datagram(type, payload, framing: .standard))
                }
                forged.append(FakeKernel.datagram(.getStatus, AuditStatus(enabled: 0, pid: 1).encoded(), framing: .standard, sequence: 1))
                forged.append(FakeKernel.datagram(.error, [UInt8](repeating: 0, count: 20), framing: .standard, sequence: 2))
                for datagram in forged {
                    let sent = datagram.withUnsafeBytes { CAudit_send_to_port(forger.descriptor, $0.baseAddress, $0.count, port) }
                    #expect(sent == datagram.count, "sendto port \(port): errno \(errno)")
                }
                // Records the kernel really makes, after the forged ones: the daemon must go on.
                let genuine = 5
                try sendUserRecords((1...genuine).map { "genuine-\(token) \($0)" })
                eventually(timeout: .seconds(5)) {
                    ((try? readLog(logPath).lines) ?? []).filter({ $0.contains("genuine-\(token)") }).count >= genuine
                }
                #expect(daemon.terminate() == 0)

                let lines = try readLog(logPath).lines
                let forgedWritten = lines.filter { $0.contains("forged-\(token)") }.count
                let genuineWritten = lines.filter { $0.contains("genuine-\(token)") }.count
                #expect(forgedWritten == 0, "a forged record was written")
                #expect(genuineWritten == genuine)
                #expect(daemon.summaryFigure("refused_senders") == forged.count, "diagnostics: \(daemon.diagnostics)")
                #expect(daemon.receivedAllWritten)
                let diagnostics = daemon.diagnostics
                #expect(diagnostics.contains("refused a datagram not sent by the kernel"))
                #expect(diagnostics.contains("sender=\(forger.portID)"), "the report names the forger's port")
                print("forged senders: \(forged.count) sent to port \(port) from port \(forger.portID), "
                      + "\(daemon.summaryFigure("refused_senders") ?? -1) refused, \(forgedWritten) written; \(genuineWritten) of \(genuine) genuine written")
            }
        }
    }
}
