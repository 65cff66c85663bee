import AuditTestKit
import Foundation
import Testing

/// The built plugin, fed golden records on its standard input as auditd feeds it, against the
/// Python receiver that decodes with the official OTLP definitions.
@Suite(.serialized) struct PluginProcessTests {
    /// A test's directory, receiver and plugin configuration.
    final class Setup {
        let directory: TemporaryDirectory
        let receiver: OTLPReceiver
        let configuration: String
        var queueDirectory: String { directory.appending("queue") }
        var diagnostics: String { directory.appending("plugin.log") }

        init(extra: String = "") throws {
            try Requirement.check(PluginProcess.unmetRequirement)
            try Requirement.check(OTLPReceiver.unmetRequirement)
            directory = try TemporaryDirectory("otlp-plugin")
            receiver = try OTLPReceiver(directory: directory)
            configuration = try directory.write("""
                # written by PluginProcessTests
                endpoint = \(receiver.endpoint)
                queue_dir = \(directory.appending("queue"))
                batch_max_events = 50
                batch_delay_ms = 20
                retry_initial_ms = 50
                retry_max_seconds = 1
                end_of_event_timeout = 1
                shutdown_timeout_seconds = 10
                host_name = test-host
                \(extra)
                """, to: "swift-auditd-otlp.conf")
        }

        func startPlugin() throws -> PluginProcess {
            try PluginProcess(configuration: configuration, queueDirectory: queueDirectory, diagnostics: diagnostics)
        }

        deinit {
            receiver.stop()
            directory.remove()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func everyEventArrivesOnceWithItsLinesAndAttributes() throws {
        let setup = try Setup()
        let stream = try GoldenEventStream()
        let plugin = try setup.startPlugin()
        plugin.send(stream.lines)
        plugin.closeInput()
        #expect(plugin.waitForExit() == 0, "\(plugin.diagnostics)")

        let records = setup.receiver.records()
        let stamps = setup.receiver.stamps()
        #expect(stamps.count == stream.events.count)
        #expect(Set(stamps) == Set(stream.events.keys))
        for record in records {
            let attributes = try #require(record["attributes"] as? [String: Any])
            let stamp = try #require(attributes["audit.stamp"] as? String)
            #expect(record["body"] as? String == stream.events[stamp]?.joined(separator: "\n"))
            #expect((record["resource"] as? [String: Any])?["host.name"] as? String == "test-host")
            #expect((record["resource"] as? [String: Any])?["service.name"] as? String == "swift-auditd")
        }
        // One event, checked field by field: auditctl adding the watch rule.
        let event = try #require(records.first { ($0["attributes"] as? [String: Any])?["audit.stamp"] as? String == "1795706559.845:3587213" })
        let attributes = try #require(event["attributes"] as? [String: Any])
        #expect(attributes["audit.type"] as? String == "CONFIG_CHANGE")
        #expect(attributes["audit.serial"] as? Int == 3587213)
        #expect(attributes["audit.key"] as? String == "enrich-watch")
        #expect(attributes["audit.exe"] as? String == "/usr/sbin/auditctl")
        #expect(attributes["audit.comm"] as? String == "auditctl")
        #expect(attributes["audit.syscall"] as? String == "44")
        #expect(attributes["audit.success"] as? String == "yes")
        #expect(attributes["audit.pid"] as? Int == 26806)
        #expect(attributes["audit.uid"] as? Int == 0)
        #expect(attributes["audit.auid"] as? Int == 4294967295)
        #expect(event["time_unix_nano"] as? Int == 1_795_706_559_845_000_000)
        let requests = setup.receiver.requests()
        #expect(requests.allSatisfy { $0["content_type"] as? String == "application/x-protobuf" && $0["path"] as? String == "/v1/logs" })
    }

    @Test(.timeLimit(.minutes(2)))
    func nothingIsLostWhileTheReceiverAnswers503DropsConnectionsOrIsGone() throws {
        let setup = try Setup()
        let stream = try GoldenEventStream(copies: 3)
        let thirds = stream.lines.count / 3
        let plugin = try setup.startPlugin()

        try setup.receiver.answer("503 0")
        plugin.send(Array(stream.lines[..<thirds]))
        #expect(eventually(timeout: .seconds(20)) { setup.receiver.requests().filter { $0["status"] as? Int == 503 }.count >= 2 })

        try setup.receiver.answer("drop")
        plugin.send(Array(stream.lines[thirds..<(2 * thirds)]))
        #expect(eventually(timeout: .seconds(20)) { setup.receiver.requests().contains { $0["mode"] as? String == "drop" } })

        setup.receiver.stop()
        let retriesBefore = plugin.status()["retries"] ?? 0
        plugin.send(Array(stream.lines[(2 * thirds)...]))
        #expect(eventually(timeout: .seconds(20)) { (plugin.status()["retries"] ?? 0) >= retriesBefore + 2 })
        #expect(setup.receiver.stamps().isEmpty)

        try setup.receiver.answer("ok")
        try setup.receiver.start()
        #expect(eventually(timeout: .seconds(30)) { Set(setup.receiver.stamps()).count == stream.events.count })
        plugin.closeInput()
        #expect(plugin.waitForExit() == 0, "\(plugin.diagnostics)")
        #expect(Set(setup.receiver.stamps()) == Set(stream.events.keys))
        #expect(plugin.status()["events_dropped"] == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aKilledPluginLosesNothingOnRestartAndRepeatsAtMostOneBatch() throws {
        let setup = try Setup()
        let stream = try GoldenEventStream(copies: 8)
        let half = stream.lines.count / 2
        // Everything of the first half is queued while the receiver refuses, then it is let in and
        // the plugin is killed while it sends.
        try setup.receiver.answer("503 0")
        let first = try setup.startPlugin()
        first.send(Array(stream.lines[..<half]))
        let firstHalfEvents = Set(stream.lines[..<half].map(GoldenEventStream.stamp(of:))).count
        #expect(eventually(timeout: .seconds(20)) { (first.status()["events_queued"] ?? 0) >= firstHalfEvents })
        // A slow collector (records kept, answer 300 ms later): the kill lands with a batch in flight.
        try setup.receiver.answer("delay 300")
        #expect(eventually(timeout: .seconds(20)) { !setup.receiver.stamps().isEmpty })
        first.kill(SIGKILL)
        #expect(first.waitForExit() == SIGKILL)
        let beforeRestart = setup.receiver.stamps().count
        #expect(beforeRestart < firstHalfEvents, "killed too late to be mid-stream: \(beforeRestart) of \(firstHalfEvents) already sent")

        try setup.receiver.answer("ok")
        let second = try setup.startPlugin()
        second.send(Array(stream.lines[half...]))
        second.closeInput()
        #expect(second.waitForExit() == 0, "\(second.diagnostics)")
        let stamps = setup.receiver.stamps()
        #expect(Set(stamps) == Set(stream.events.keys))
        let duplicates = stamps.count - Set(stamps).count
        #expect(duplicates <= 50, "duplicates: \(duplicates), more than one batch of 50")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRefusedBatchIsSetAsideAndReportedAndPartialSuccessIsCounted() throws {
        let setup = try Setup()
        let stream = try GoldenEventStream()
        let plugin = try setup.startPlugin()
        try setup.receiver.answer("400")
        // Whole events only (up to the fifth EOE), so none is split by the end-of-event timeout.
        let cut = stream.lines.indices.filter { stream.lines[$0].hasPrefix("type=EOE ") }[4] + 1
        plugin.send(Array(stream.lines[..<cut]))
        #expect(eventually(timeout: .seconds(20)) { (plugin.status()["batches_rejected"] ?? 0) >= 1 })
        let rejected = try FileManager.default.contentsOfDirectory(atPath: setup.queueDirectory + "/rejected")
        #expect(!rejected.isEmpty)
        let kept = try String(contentsOfFile: setup.queueDirectory + "/rejected/" + rejected[0], encoding: .utf8)
        #expect(kept.hasPrefix("# \(setup.receiver.endpoint) refused this batch: HTTP 400: test receiver refuses this batch"))
        #expect(kept.contains(stream.lines[0]))
        #expect(plugin.diagnostics.contains("refused a batch"))

        try setup.receiver.answer("partial 2")
        plugin.send(Array(stream.lines[cut...]))
        plugin.closeInput()
        #expect(plugin.waitForExit() == 0, "\(plugin.diagnostics)")
        let status = plugin.status()
        #expect((status["records_rejected_by_collector"] ?? 0) >= 2)
        #expect(status["events_rejected"].map { $0 + (status["events_sent"] ?? 0) } == stream.events.count)
        #expect(setup.receiver.requests().filter { $0["status"] as? Int == 400 }.count == status["batches_rejected"])
    }

    @Test(.timeLimit(.minutes(1)))
    func aFullQueueDropsTheOldestAndCountsEveryEventItLetGo() throws {
        let setup = try Setup(extra: "queue_max_bytes = 65536\nbatch_max_bytes = 16384\nqueue_full_action = drop_oldest")
        let stream = try GoldenEventStream(copies: 3)
        try setup.receiver.answer("503 1")
        let plugin = try setup.startPlugin()
        plugin.send(stream.lines)
        #expect(eventually(timeout: .seconds(20)) { (plugin.status()["events_dropped"] ?? 0) > 0 })
        try setup.receiver.answer("ok")
        plugin.closeInput()
        #expect(plugin.waitForExit() == 0, "\(plugin.diagnostics)")
        let status = plugin.status()
        let received = Set(setup.receiver.stamps())
        #expect(status["events_queued"] == stream.events.count)
        #expect((status["events_dropped"] ?? 0) + (status["events_sent"] ?? 0) == stream.events.count)
        #expect(received.count == status["events_sent"])
        #expect(received.contains(stream.events.keys.max { GoldenEventStream.serial($0) < GoldenEventStream.serial($1) }!),
                "the newest events are the ones kept")
        #expect(plugin.diagnostics.contains("queue full (drop_oldest): dropped"))
    }

    @Test(.timeLimit(.minutes(1)))
    func sigtermFlushesWhatIsQueuedAndExitsZero() throws {
        let setup = try Setup()
        let stream = try GoldenEventStream()
        let plugin = try setup.startPlugin()
        plugin.send(stream.lines)
        #expect(eventually(timeout: .seconds(20)) { (plugin.status()["lines_read"] ?? 0) == stream.lines.count })
        plugin.kill(SIGTERM)
        #expect(plugin.waitForExit() == 0, "\(plugin.diagnostics)")
        #expect(Set(setup.receiver.stamps()) == Set(stream.events.keys))
    }

    @Test(.timeLimit(.minutes(1)))
    func aBadConfigurationExitsSixNamingTheFileAndLine() throws {
        try Requirement.check(PluginProcess.unmetRequirement)
        let directory = try TemporaryDirectory("otlp-config")
        defer { directory.remove() }
        let path = try directory.write("endpoint = http://127.0.0.1:1/v1/logs\nqueue_dir = /tmp/x\nqueue_full_action = maybe\n", to: "bad.conf")
        let result = try shell(PluginProcess.executablePath, [path])
        #expect(result.status == 6)
        #expect(result.output == "swift-auditd-otlp: \(path):3: queue_full_action 'maybe' is not one of drop_oldest, drop_newest, block\n")
    }
}
