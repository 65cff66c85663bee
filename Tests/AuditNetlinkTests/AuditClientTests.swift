import AuditNetlink
import AuditProtocol
import AuditTestKit
import Logging
import Glibc
import Testing

@Suite(.timeLimit(.minutes(1)))
struct AuditClientTests {
    @Test func statusReplyIsFoundBehindRecordsThatArriveFirst() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.status = AuditStatus(enabled: 1, failure: 1, pid: 0, backlogLimit: 8192, lost: 7)
        let kernel = try FakeKernel(behaviour)
        // Records already waiting in the socket when the request goes out: the reply comes after them.
        try kernel.emit(.syscall, "audit(1.000:1): first")
        try kernel.emit(.syscall, "audit(1.000:2): second")
        let client = AuditClient(socket: kernel.daemonSocket, logger: Logger(label: "test"))
        var seen: [String] = []
        let status = try client.status { _, payload in seen.append(String(decoding: payload, as: UTF8.self)) }
        #expect(status.lost == 7)
        #expect(status.backlogLimit == 8192)
        #expect(seen == ["audit(1.000:1): first", "audit(1.000:2): second"])
    }

    @Test func refusalCarriesTheKernelsErrno() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.registrationError = EEXIST
        let kernel = try FakeKernel(behaviour)
        let client = AuditClient(socket: kernel.daemonSocket, logger: Logger(label: "test"))
        let error = #expect(throws: AuditClientError.self) {
            try client.set(AuditStatus(mask: .pid, pid: 42)) { _, _ in }
        }
        guard case let .refused(request, code) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(request == .setStatus)
        #expect(code == EEXIST)
    }

    @Test func aNetlinkSocketAcceptsOnlyTheKernelAsSender() throws {
        let socket = try AuditSocket.kernel()
        #expect(socket.acceptsSender(hasNetlinkAddress: true, portID: 0))
        #expect(!socket.acceptsSender(hasNetlinkAddress: true, portID: 4321))
        #expect(!socket.acceptsSender(hasNetlinkAddress: false, portID: 0))
    }
}
