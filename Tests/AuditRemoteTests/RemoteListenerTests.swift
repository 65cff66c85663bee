import AuditRemote
import AuditTestKit
import Foundation
import Logging
import RemoteProtocol
import Testing

/// Runs `body` against a listener on a port the kernel picks, on every address as auditd listens
/// (one dual-stack socket), tcp_wrappers off unless `configure` turns it on.
func withListener(
    sink: CollectingSink = CollectingSink(), _ configure: (inout RemoteListenerConfiguration) -> Void = { _ in },
    _ body: (RemoteListener, Int, CollectingSink) async throws -> Void
) async throws {
    var settings = RemoteListenerSettings()
    settings.useLibwrap = false
    var configuration = RemoteListenerConfiguration(settings: settings)
    configure(&configuration)
    let listener = RemoteListener(configuration: configuration, sink: sink, logger: quietLogger)
    let addresses = try await listener.start()
    do {
        try await body(listener, addresses.first?.port ?? 0, sink)
    } catch {
        await listener.stop()
        throw error
    }
    await listener.stop()
}

/// The listener's diagnostics (a thousand "Too many connections") are not the tests' output.
let quietLogger = Logger(label: "swift-auditd.remote.test") { _ in SwiftLogNoOpLogHandler() }

@Suite(.timeLimit(.minutes(1)))
struct RemoteListenerTests {
    @Test func recordsReachTheSinkInOrderAndAreAckedOnlyWhenTheSinkCompletes() async throws {
        try await withListener(sink: CollectingSink(autoAcknowledge: false)) { _, port, sink in
            let client = try TestClient(port: port)
            for (sequence, text) in [(2, "type=USER msg=audit(1.000:1): a"), (3, "node=c1 type=USER msg=audit(1.000:2): b"),
                                     (4, "type=USER msg=audit(1.000:3): c\n")] {
                try client.sendRecord(text, sequenceID: UInt32(sequence))
            }
            #expect(eventually { sink.records.count == 3 })
            #expect(sink.texts == ["type=USER msg=audit(1.000:1): a", "node=c1 type=USER msg=audit(1.000:2): b",
                                   "type=USER msg=audit(1.000:3): c"])
            #expect(sink.records.map(\.sequenceID) == [2, 3, 4])
            #expect(sink.records.allSatisfy { $0.client.address == "::ffff:127.0.0.1" && $0.client.port == client.localPort })
            // Completed out of order, answered in arrival order; a reply waits for its record.
            sink.records[1].acknowledgement.complete()
            sink.records[1].acknowledgement.complete()  // twice: nothing more
            sink.records[0].acknowledgement.complete()
            #expect(try client.receiveReply().header == RemoteFrameHeader(type: .ack, length: 0, sequenceID: 2))
            #expect(try client.receiveReply().header == RemoteFrameHeader(type: .ack, length: 0, sequenceID: 3))
            sink.records[2].acknowledgement.complete(.diskFull)
            let full = try client.receiveReply()
            #expect(full.header == RemoteFrameHeader(type: .diskFull, length: 9, sequenceID: 4) && full.text == "disk full")
        }
    }

    @Test func aHeartbeatIsAnsweredWithAnAckAndIsNoRecord() async throws {
        try await withListener { _, port, sink in
            let client = try TestClient(port: port)
            try client.send(RemoteFrameHeader(type: .heartbeat, length: 0, sequenceID: 77).bytes)
            #expect(try client.receiveReply().header == RemoteFrameHeader(type: .ack, length: 0, sequenceID: 77))
            #expect(sink.records.isEmpty)
        }
    }

    @Test func acceptAndCloseRecordsHaveAuditdsTexts() async throws {
        try await withListener { _, port, sink in
            var client: TestClient? = try TestClient(port: port)
            let clientPort = client!.localPort
            #expect(eventually { sink.listenerLines(port: clientPort).count == 1 })
            client = nil
            #expect(eventually { sink.listenerLines(port: clientPort).count == 2 })
            #expect(sink.listenerLines(port: clientPort) == [
                "type=DAEMON_ACCEPT addr=::ffff:127.0.0.1 port=\(clientPort) res=success",
                "type=DAEMON_CLOSE addr=::ffff:127.0.0.1 port=\(clientPort) res=success",
            ])
            let v6 = try TestClient(host: "::1", port: port)
            #expect(eventually { sink.listenerLines(port: v6.localPort) == ["type=DAEMON_ACCEPT addr=::1 port=\(v6.localPort) res=success"] })
        }
    }

    @Test(arguments: [
        ("bad-magic", Array("type=USER msg=audit(1.000:1): ascii\n".utf8)),
        ("bad-type", RemoteFrameHeader(type: .ack, length: 0, sequenceID: 1).bytes),
        ("too-long", RemoteFrameHeader(type: .message, length: 8971, sequenceID: 1).bytes),
        ("nul", RemoteFrameHeader(type: .message, length: 3, sequenceID: 1).bytes + [0x61, 0x00, 0x62]),
        ("empty", RemoteFrameHeader(type: .message, length: 0, sequenceID: 1).bytes),
    ])
    func aBadFrameClosesTheConnectionSayingWhyAndNothingOfItIsHandedOn(reason: String, frame: [UInt8]) async throws {
        try await withListener { _, port, sink in
            let client = try TestClient(port: port)
            try client.sendRecord("type=USER msg=audit(1.000:1): good", sequenceID: 1)
            #expect(try client.receiveReply().header.type == .ack)
            try client.send(frame + RemoteFrameHeader(type: .message, length: 4, sequenceID: 3).bytes + Array("next".utf8))
            #expect(client.isClosedByServer())
            #expect(eventually { sink.listenerLines(port: client.localPort).count == 2 })
            #expect(sink.listenerLines(port: client.localPort).last
                == "type=DAEMON_CLOSE op=\(reason) addr=::ffff:127.0.0.1 port=\(client.localPort) res=no")
            #expect(sink.texts == ["type=USER msg=audit(1.000:1): good"])
        }
    }

    @Test func aFrameCutMidWayIsNotHandedOn() async throws {
        try await withListener { _, port, sink in
            var client: TestClient? = try TestClient(port: port)
            let clientPort = client!.localPort
            let frame = RemoteFrameHeader(type: .message, length: 30, sequenceID: 5).bytes + Array("type=USER msg=audit(1".utf8)
            try client!.send(frame)
            client = nil
            #expect(eventually { sink.listenerLines(port: clientPort).count == 2 })
            #expect(sink.listenerLines(port: clientPort).last == "type=DAEMON_CLOSE op=truncated addr=::ffff:127.0.0.1 port=\(clientPort) res=no")
            #expect(sink.records.isEmpty)
        }
    }

    @Test func aSourcePortOutsideTcpClientPortsIsRefused() async throws {
        try await withListener({ $0.settings.clientPorts = 1...1023 }) { _, port, sink in
            let client = try TestClient(port: port)
            #expect(client.isClosedByServer())
            #expect(sink.listenerLines(port: client.localPort) == ["type=DAEMON_ACCEPT op=port addr=::ffff:127.0.0.1 port=\(client.localPort) res=no"])
            let privileged = try TestClient(port: port, sourcePort: 1000)
            #expect(eventually { sink.listenerLines(port: 1000) == ["type=DAEMON_ACCEPT addr=::ffff:127.0.0.1 port=1000 res=success"] })
            _ = privileged
        }
    }

    @Test func anAddressAtTcpMaxPerAddrIsRefusedAsADuplicate() async throws {
        try await withListener { _, port, sink in
            let first = try TestClient(port: port)
            try first.send(RemoteFrameHeader(type: .heartbeat, length: 0, sequenceID: 1).bytes)
            _ = try first.receiveReply()
            let second = try TestClient(port: port)
            #expect(second.isClosedByServer())
            #expect(sink.listenerLines(port: second.localPort) == ["type=DAEMON_ACCEPT op=dup addr=::ffff:127.0.0.1 port=\(second.localPort) res=no"])
            // Another address is another count.
            let other = try TestClient(host: "::1", port: port)
            #expect(eventually { sink.listenerLines(port: other.localPort).first?.hasSuffix("res=success") == true })
        }
    }

    @Test func aSilentConnectionIsReplacedWhenItsAddressReconnects() async throws {
        try await withListener({ $0.replaceSilentAfter = .milliseconds(200) }) { _, port, sink in
            let stale = try TestClient(port: port)
            #expect(eventually { sink.listenerLines(port: stale.localPort).count == 1 })
            // Until the old connection has been silent long enough, the new one is a duplicate;
            // then it is accepted and the old one closed.
            var accepted: TestClient?
            #expect(try eventually(timeout: .seconds(10), interval: .milliseconds(50)) {
                let client = try TestClient(port: port)
                guard eventually({ !sink.listenerLines(port: client.localPort).isEmpty }),
                      sink.listenerLines(port: client.localPort).first?.hasSuffix("res=success") == true else { return false }
                accepted = client
                return true
            })
            #expect(stale.isClosedByServer())
            #expect(eventually { sink.listenerLines(port: stale.localPort).count == 2 })
            #expect(sink.listenerLines(port: stale.localPort).last == "type=DAEMON_CLOSE op=stale addr=::ffff:127.0.0.1 port=\(stale.localPort) res=no")
            try accepted?.sendRecord("type=USER msg=audit(1.000:1): after", sequenceID: 2)
            #expect(try accepted?.receiveReply().header.sequenceID == 2)
        }
    }

    @Test func anIdleClientIsClosedAsAuditdClosesIt() async throws {
        try await withListener({ $0.clientMaxIdle = .milliseconds(300) }) { _, port, sink in
            let client = try TestClient(port: port)
            #expect(client.isClosedByServer())
            #expect(eventually { sink.listenerLines(port: client.localPort).count == 2 })
            #expect(sink.listenerLines(port: client.localPort).last == "type=DAEMON_CLOSE addr=::ffff:127.0.0.1 port=\(client.localPort) res=success")
        }
    }

    @Test func reloadAppliesNewLimitsWithoutDroppingClients() async throws {
        try await withListener { listener, port, sink in
            let first = try TestClient(port: port)
            #expect(eventually { sink.listenerLines(port: first.localPort).count == 1 })
            var settings = RemoteListenerSettings()
            settings.port = UInt16(port)
            settings.useLibwrap = false
            settings.maxPerAddress = 2
            let restart = await listener.apply(settings)
            #expect(restart.isEmpty)
            let second = try TestClient(port: port)
            #expect(eventually { sink.listenerLines(port: second.localPort).first?.hasSuffix("res=success") == true })
            try first.sendRecord("type=USER msg=audit(1.000:1): still here", sequenceID: 9)
            #expect(try first.receiveReply().header.sequenceID == 9)
            #expect(await listener.connections().map(\.client.port) == [first.localPort, second.localPort])
            #expect(await listener.connections().first?.recordsReceived == 1)
        }
    }

    @Test func aReloadedIdleLimitReachesConnectedClients() async throws {
        try await withListener { listener, port, sink in
            let client = try TestClient(port: port)
            #expect(eventually { sink.listenerLines(port: client.localPort).count == 1 })
            var settings = RemoteListenerSettings()
            settings.useLibwrap = false
            var configuration = RemoteListenerConfiguration(settings: settings)
            configuration.clientMaxIdle = .milliseconds(200)
            await listener.apply(configuration)
            #expect(client.isClosedByServer())
            #expect(eventually { sink.listenerLines(port: client.localPort).last?.hasPrefix("type=DAEMON_CLOSE addr=") == true })
        }
    }

    @Test func aHeartbeatIsAnsweredAfterTheRecordsBeforeIt() async throws {
        try await withListener(sink: CollectingSink(autoAcknowledge: false)) { _, port, sink in
            let client = try TestClient(port: port)
            try client.sendRecord("type=USER msg=audit(1.000:1): a", sequenceID: 10)
            try client.send(RemoteFrameHeader(type: .heartbeat, length: 0, sequenceID: 11).bytes)
            #expect(eventually { sink.records.count == 1 })
            sink.records[0].acknowledgement.complete(.diskLow)
            #expect(try client.receiveReply().header == RemoteFrameHeader(type: .diskLow, length: 0, sequenceID: 10))
            #expect(try client.receiveReply().header == RemoteFrameHeader(type: .ack, length: 0, sequenceID: 11))
        }
    }

    @Test func aClientWithManyUnansweredRecordsIsNotReadFrom() async throws {
        try await withListener(sink: CollectingSink(autoAcknowledge: false), { $0.maximumPendingRecords = 2 }) { _, port, sink in
            let client = try TestClient(port: port)
            for sequence in 1...5 { try client.sendRecord("type=USER msg=audit(1.000:\(sequence)): r", sequenceID: UInt32(sequence)) }
            #expect(eventually { sink.records.count >= 2 })
            #expect(sink.records.count == 2)
            for record in sink.records { record.acknowledgement.complete() }
            #expect(eventually { sink.records.count == 4 })
            for record in sink.records[2...] { record.acknowledgement.complete() }
            #expect(eventually { sink.records.count == 5 })
            sink.records[4].acknowledgement.complete()
            #expect(try (1...5).map { _ in try client.receiveReply().header.sequenceID } == [1, 2, 3, 4, 5])
        }
    }

    /// Replies given together off the loop (what the daemon does after a write) leave in arrival
    /// order, each sequence id once, for every connection in the batch, whatever order the batch
    /// lists them in; the records they free are read on.
    @Test func repliesGivenTogetherOffTheLoopLeaveInArrivalOrderForEachConnection() async throws {
        try await withListener(sink: CollectingSink(autoAcknowledge: false), { $0.maximumPendingRecords = 40; $0.settings.maxPerAddress = 2 }) { _, port, sink in
            let clients = try (0..<2).map { _ in try TestClient(port: port) }
            for (number, client) in clients.enumerated() {
                // 50 frames in one send: more than the listener takes before an answer.
                try client.send(TestClient.frames((1...50).map { "type=USER msg=audit(1.000:\($0)): client=\(number)" }))
            }
            #expect(eventually { sink.records.count == 80 })
            #expect(sink.records.count == 80, "40 unanswered per connection, then the listener stops reading")
            #expect(eventually { sink.recordsSinceBatchEnded == 0 }, "every record is followed by the end of its batch")
            // A batch from the test's thread, not the loop's: the two connections interleaved, each
            // connection's records newest first.
            var replies = RemoteReplies()
            for record in sink.records.reversed() { replies.append(record.acknowledgement) }
            replies.send()
            #expect(replies.isEmpty)
            #expect(eventually { sink.records.count == 100 })
            #expect(eventually { sink.recordsSinceBatchEnded == 0 }, "frames freed by replies end a batch too")
            let rest = sink.records[80...]
            replies.append(rest.first!.acknowledgement, .diskLow)
            for record in rest.dropFirst() { replies.append(record.acknowledgement) }
            replies.send()
            for (number, client) in clients.enumerated() {
                let answered = try (1...50).map { _ in try client.receiveReply().header }
                #expect(answered.map(\.sequenceID) == Array(1...50), "client \(number): each id once, in order")
                #expect(answered.filter { $0.type != .ack }.count == (rest.first!.client.port == client.localPort ? 1 : 0))
            }
        }
    }

    /// Frames split across reads anywhere (audisp-remote sends a header and its record with two
    /// writes; TCP may cut anywhere) are joined: every record whole, in order, answered in order,
    /// while the sink still holds the records of earlier joined frames.
    @Test func framesSplitAcrossReadsArriveWholeAndInOrder() async throws {
        try await withListener(sink: CollectingSink(autoAcknowledge: false)) { _, port, sink in
            let client = try TestClient(port: port)
            let texts = (1...30).map { "type=USER msg=audit(1.000:\($0)): split=\(String(repeating: "x", count: $0 * 3))" }
            let stream = TestClient.frames(texts)
            // Cuts at every size from 1 to 40 bytes, each piece its own read (TCP_NODELAY is the
            // client's default here; the pause lets the listener read each before the next).
            var offset = 0, size = 1
            while offset < stream.count {
                let end = min(offset + size, stream.count)
                try client.send(Array(stream[offset..<end]))
                offset = end
                size = size % 40 + 1
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(eventually { sink.records.count == 30 })
            #expect(sink.texts == texts)
            var replies = RemoteReplies()
            for record in sink.records { replies.append(record.acknowledgement) }
            replies.send()
            #expect(try (1...30).map { _ in try client.receiveReply().header.sequenceID } == Array(1...30))
        }
    }

    /// Frames already read wait while the sink is behind; each answer lets the next one out, with
    /// no new bytes from the client needed (a found bug: they waited for the next read).
    @Test func eachAnswerReleasesAFrameAlreadyRead() async throws {
        try await withListener(sink: CollectingSink(autoAcknowledge: false), { $0.maximumPendingRecords = 2 }) { _, port, sink in
            let client = try TestClient(port: port)
            try client.send(TestClient.frames((1...5).map { "type=USER msg=audit(1.000:\($0)): r" }))
            #expect(eventually { sink.records.count == 2 })
            sink.records[0].acknowledgement.complete()
            #expect(eventually { sink.records.count == 3 })
            #expect(try client.receiveReply().header.sequenceID == 1)
        }
    }

    @Test func aSlowClientAndAThousandConnectionsFromOneAddressLeaveOthersAlone() async throws {
        try await withListener({ $0.settings.listenQueue = 1024 }) { _, port, sink in
            // One byte of a frame, then nothing: its connection waits, alone.
            let slow = try TestClient(port: port)
            try slow.send([0xfe])
            let steady = try TestClient(host: "::1", port: port)
            for round in 0..<10 {
                // A thousand connections from 127.0.0.1 (slow's address, at its limit of one).
                for _ in 0..<100 {
                    let flood = try TestClient(port: port)
                    _ = flood.isClosedByServer()
                }
                try steady.sendRecord("type=USER msg=audit(1.000:\(round)): steady", sequenceID: UInt32(round))
                #expect(try steady.receiveReply().header.sequenceID == UInt32(round))
            }
            #expect(sink.texts.count == 10)
            #expect(eventually { sink.listenerLines.filter { $0.contains("op=dup") }.count == 1000 })
            try slow.send(Array(RemoteFrameHeader(type: .heartbeat, length: 0, sequenceID: 1).bytes[1...]))
            #expect(try slow.receiveReply().header.sequenceID == 1)
        }
    }

    @Test func tcpWrappersTablesAreConsulted() async throws {
        let directory = try TemporaryDirectory("swift-auditd-libwrap")
        defer { directory.remove() }
        let allow = try directory.write("", to: "hosts.allow")
        let deny = try directory.write("auditd: ALL\n", to: "hosts.deny")
        try await withListener({
            $0.settings.useLibwrap = true
            $0.hostsAllowPath = allow
            $0.hostsDenyPath = deny
        }) { _, port, sink in
            let refused = try TestClient(port: port)
            #expect(refused.isClosedByServer())
            #expect(eventually { sink.listenerLines(port: refused.localPort) == ["type=DAEMON_ACCEPT op=wrap addr=::ffff:127.0.0.1 port=\(refused.localPort) res=no"] })
            try directory.write("auditd: ALL\n", to: "hosts.allow")
            let allowed = try TestClient(port: port)
            #expect(eventually { sink.listenerLines(port: allowed.localPort).first?.hasSuffix("res=success") == true })
        }
    }

    @Test func kerberosIsRefusedAtStartWithAClearError() async throws {
        var settings = RemoteListenerSettings()
        settings.port = 60
        settings.transport = .krb5
        let listener = RemoteListener(configuration: RemoteListenerConfiguration(settings: settings), sink: CollectingSink(), logger: quietLogger)
        await #expect(throws: RemoteListenerError.unsupportedTransport(settings.startupProblem!)) { try await listener.start() }
        await listener.stop()
    }

    /// The daemon's loop is a thread, not a task: the blocking face of the same calls.
    @Test func theDaemonsThreadCanDriveTheListenerWithoutAsync() throws {
        let sink = CollectingSink()
        var settings = RemoteListenerSettings()
        settings.useLibwrap = false
        let listener = RemoteListener(configuration: RemoteListenerConfiguration(settings: settings), sink: sink, logger: quietLogger)
        let started = settings
        let outcome = NSLock()
        nonisolated(unsafe) var steps: [String] = []
        let thread = Thread {
            do {
                let port = try listener.startAndWait().first?.port ?? 0
                let client = try TestClient(port: port)
                try client.sendRecord("type=USER msg=audit(1.000:1): sync", sequenceID: 4)
                _ = try client.receiveReply()
                var changed = started
                changed.maxPerAddress = 3
                let restart = listener.applyAndWait(changed)
                let connected = listener.connectionsAndWait().count
                listener.stopAndWait()
                let ending = try client.receiveReply().header.type
                outcome.withLock { steps = ["started", "restart \(restart)", "connected \(connected)", "\(ending)"] }
            } catch {
                outcome.withLock { steps = ["failed: \(error)"] }
            }
        }
        thread.start()
        #expect(eventually { outcome.withLock { !steps.isEmpty } })
        #expect(outcome.withLock { steps } == ["started", "restart []", "connected 1", "ENDING"])
        #expect(sink.texts == ["type=USER msg=audit(1.000:1): sync"])
    }

    @Test func stoppingSendsEndingToEveryClient() async throws {
        let sink = CollectingSink()
        var settings = RemoteListenerSettings()
        settings.useLibwrap = false
        let listener = RemoteListener(configuration: RemoteListenerConfiguration(settings: settings), sink: sink, logger: quietLogger)
        let port = try await listener.start().first?.port ?? 0
        let client = try TestClient(port: port)
        #expect(eventually { sink.listenerLines(port: client.localPort).count == 1 })
        await listener.stop()
        #expect(try client.receiveReply().header == RemoteFrameHeader(type: .ending, length: 0, sequenceID: 0))
        #expect(client.isClosedByServer())
        #expect(sink.listenerLines(port: client.localPort).last == "type=DAEMON_CLOSE addr=::ffff:127.0.0.1 port=\(client.localPort) res=success")
    }
}
