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
        let seen = Seen()
        client.handleRecords { _, payload in seen.texts.append(String(decoding: payload, as: UTF8.self)) }
        let status = try client.status()
        #expect(status.lost == 7)
        #expect(status.backlogLimit == 8192)
        client.handleDeferredRecords()
        #expect(seen.texts == ["audit(1.000:1): first", "audit(1.000:2): second"])
    }

    /// What the handler does with a record (buffer it, and so perhaps write, rotate or run a disk
    /// action) never runs in the middle of a request: records that arrive between a request and
    /// its answer are kept, and handed on after it, in arrival order, all of them.
    @Test func recordsArrivingBeforeTheAnswerAreHandedOnAfterTheRequestInArrivalOrder() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.signalInfo = SignalInfo(uid: 1000, pid: 1)
        let texts = (1...300).map { "audit(1700000002.000:\($0)): while asking \(String(repeating: "x", count: $0))" }
        behaviour.recordsBeforeSignalInfoReply = texts.map { FakeKernel.Record(.syscall, $0) }
        let kernel = try FakeKernel(behaviour)
        try kernel.emit(.syscall, "audit(1700000001.000:1): before")
        let client = AuditClient(socket: kernel.daemonSocket, logger: Logger(label: "test"))
        let seen = Seen()
        client.handleRecords { _, payload in
            if seen.inRequest { seen.handledInRequest += 1 }
            seen.texts.append(String(decoding: payload, as: UTF8.self))
        }
        #expect(try kernel.daemonSocket.waitReadable(timeoutMilliseconds: 2000).socket)
        _ = try client.receiveAvailable()
        #expect(seen.texts == ["audit(1700000001.000:1): before"])

        seen.inRequest = true
        let info = try client.signalInfo()
        seen.inRequest = false
        #expect(info.pid == 1)
        #expect(seen.handledInRequest == 0)
        #expect(client.deferredRecordCount == 300)

        try kernel.emit(.syscall, "audit(1700000003.000:1): after")
        #expect(try kernel.daemonSocket.waitReadable(timeoutMilliseconds: 2000).socket)
        // The next receive hands the deferred records on first: nothing overtakes them.
        _ = try client.receiveAvailable()
        #expect(seen.texts == ["audit(1700000001.000:1): before"] + texts + ["audit(1700000003.000:1): after"])
        #expect(client.deferredRecordCount == 0)
        #expect(client.counters.records == 302)
    }

    @Test func refusalCarriesTheKernelsErrno() throws {
        var behaviour = FakeKernel.Behaviour()
        behaviour.registrationError = EEXIST
        let kernel = try FakeKernel(behaviour)
        let client = AuditClient(socket: kernel.daemonSocket, logger: Logger(label: "test"))
        let error = #expect(throws: AuditClientError.self) {
            try client.set(AuditStatus(mask: .pid, pid: 42))
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

/// What a test's record handler saw (the handler is escaping; the test reads it after).
private final class Seen {
    var texts: [String] = []
    var inRequest = false
    var handledInRequest = 0
}
