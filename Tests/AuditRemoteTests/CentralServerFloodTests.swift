import AuditProtocol
import AuditTestKit
import Foundation
import RemoteProtocol
import Synchronization
import Testing

/// A registered daemon (on a `FakeKernel`, no root) that is also a central server: the kernel's
/// records go on being written while clients flood the listener, and every client record is in
/// the log once, in its client's order.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CentralServerFloodTests {
    @Test func kernelRecordsAreWrittenWhileClientsFloodTheListener() throws {
        try Requirement.check(Requirement.daemonBinary())
        let directory = try TemporaryDirectory("swift-auditd-flood")
        defer { directory.remove() }
        let port = try CentralServerTests.freePort()
        try AuditdConf(in: directory, extra: "tcp_listen_port = \(port)\ntcp_max_per_addr = 8\nuse_libwrap = no\n").write(to: directory)
        var behaviour = FakeKernel.Behaviour()
        behaviour.signalInfo = SignalInfo(uid: 0, pid: getpid())
        let kernel = try FakeKernel(behaviour)
        let server = try DaemonProcess(directory: directory, kernel: kernel)
        defer { _ = server.terminate() }
        #expect(eventually(timeout: .seconds(20)) { server.diagnostics.contains("listening for audisp-remote clients") })

        // Four clients, each with 32 records in flight at a time, until told to stop.
        let stop = Atomic<Bool>(false)
        let acknowledged = Mutex<[Int: Int]>([:])
        let failures = Mutex<[String]>([])
        let threads = (1...4).map { client in
            Thread {
                do {
                    let connection = try TestClient(port: port)
                    var sent = 0
                    while !stop.load(ordering: .relaxed) {
                        for _ in 0..<32 {
                            sent += 1
                            try connection.sendRecord("node=c\(client) type=USER msg=audit(1733300000.000:\(sent)): n=\(sent)",
                                                      sequenceID: UInt32(sent))
                        }
                        for _ in 0..<32 {
                            let reply = try connection.receiveReply()
                            guard reply.header.type == .ack else { throw TestClient.Failure(description: "reply \(reply)") }
                        }
                        acknowledged.withLock { $0[client] = sent }
                    }
                } catch {
                    failures.withLock { $0.append("client \(client): \(error)") }
                }
            }
        }
        threads.forEach { $0.start() }
        #expect(eventually { acknowledged.withLock { $0.count } == 4 }, "every client is sending")
        // Each kernel record reaches the log while the flood goes on.
        for serial in 1...20 {
            let text = "audit(1700000001.000:\(serial)): local=\(serial)"
            try kernel.emit(.syscall, text)
            #expect(eventually { server.lines().contains("type=SYSCALL msg=\(text)") }, "kernel record \(serial)")
        }
        let duringFlood = acknowledged.withLock { $0 }
        stop.store(true, ordering: .relaxed)
        #expect(eventually { threads.allSatisfy { $0.isFinished } })
        #expect(failures.withLock { $0 } == [])
        #expect(server.terminate() == 0)

        let lines = server.lines()
        #expect(lines.filter { $0.hasPrefix("type=SYSCALL ") }.count == 20)
        let final = acknowledged.withLock { $0 }
        for client in 1...4 {
            let serials = lines.filter { $0.hasPrefix("node=c\(client) ") }.compactMap { $0.split(separator: "n=").last.flatMap { Int($0) } }
            #expect(serials == Array(1...(final[client] ?? 0)), "client \(client): each acknowledged record once, in order")
        }
        // The kernel's records were not held until the flood ended: more client records came after them.
        let lastKernel = lines.lastIndex { $0.hasPrefix("type=SYSCALL ") } ?? lines.count
        #expect(lines[lastKernel...].contains { $0.hasPrefix("node=c") }, "client records came after the last kernel record")
        print("flood: \(final.values.reduce(0, +)) client records acknowledged (\(duringFlood.values.reduce(0, +)) by the last kernel record), 20 kernel records written during it")
    }
}
