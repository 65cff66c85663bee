import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// The metrics end to end, on a fake kernel: the daemon's node_exporter textfile appears, is
/// rewritten and agrees with `swift-auditd status --format prometheus`; Debian's `promtool` accepts
/// both, and Debian's node_exporter serves the series with the same values.
@Suite(.timeLimit(.minutes(2)))
struct MetricsTests {
    /// A daemon on a fake kernel with `metrics_textfile` in `textfile/` and `metrics_interval = 1`.
    struct Setup {
        let directory: TemporaryDirectory
        let daemon: DaemonProcess
        var textfileDirectory: String { directory.appending("textfile") }
        var textfile: String { textfileDirectory + "/swift_auditd.prom" }

        init() throws {
            directory = try TemporaryDirectory("swift-auditd-metrics")
            try FileManager.default.createDirectory(atPath: directory.appending("textfile"), withIntermediateDirectories: false)
            try AuditdConf(in: directory).write(to: directory)
            try directory.write("metrics_textfile = \(directory.appending("textfile/swift_auditd.prom"))\nmetrics_interval = 1\n",
                                to: "swift-auditd.conf")
            daemon = try DaemonProcess(directory: directory, kernel: try FakeKernel(), arguments: [])
        }

        func textfileSamples() -> [String: Double] {
            MetricsSamples.parse((try? String(contentsOfFile: textfile, encoding: .utf8)) ?? "")
        }

        /// `status --format prometheus` asking a second fake kernel that answers as the daemon's does.
        func status() throws -> (status: Int32, output: String) {
            var behaviour = FakeKernel.Behaviour()
            behaviour.status = daemon.kernel.status
            behaviour.status.pid = UInt32(daemon.pid)
            return try runCommand(["status", "--format", "prometheus", "--kernel-fd", "0", "--run-directory", daemon.run.path],
                                  kernel: try FakeKernel(behaviour))
        }

        /// Waits until the textfile, rewritten after `status`, holds the same values (the free
        /// space of the test's file system may move between the two, so it is only required).
        func textfileAgrees(with status: String) -> Bool {
            let expected = MetricsSamples.parse(status).withoutDiskFree
            return eventually { textfileSamples().withoutDiskFree == expected }
        }

        func emitRecords() throws {
            for serial in 1...5 {
                try daemon.kernel.emit(.syscall, "audit(1700000001.000:\(serial)): arch=c000003e syscall=2")
                try daemon.kernel.emit(AuditMessageType(1302), "audit(1700000001.000:\(serial)): item=0 name=\"/etc/x\"")
            }
            try daemon.kernel.emit(.user, "audit(1700000001.000:6): user")
        }
    }

    @Test func theTextfileAppearsIsRewrittenAndAgreesWithStatus() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let daemon = setup.daemon
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        #expect(eventually { setup.textfileSamples()["swift_auditd_up"] == 1 }, "diagnostics: \(daemon.diagnostics)")
        #expect(setup.textfileSamples()["swift_auditd_records_received_total{type=\"SYSCALL\"}"] == nil)

        try setup.emitRecords()
        _ = daemon.waitForLine { $0.contains(":6): user") }
        // Rewritten: the records now show in it, by type.
        #expect(eventually { setup.textfileSamples()["swift_auditd_records_received_total{type=\"SYSCALL\"}"] == 5 })
        let samples = setup.textfileSamples()
        #expect(samples["swift_auditd_records_received_total{type=\"PATH\"}"] == 5)
        #expect(samples["swift_auditd_records_received_total{type=\"USER\"}"] == 1)
        #expect(samples["swift_auditd_records_written_total"] == Double(daemon.lines().count))
        #expect(samples["swift_auditd_daemon_records_written_total"] == 1)
        #expect(samples["swift_auditd_written_bytes_total"] == Double(try Data(contentsOf: URL(fileURLWithPath: daemon.logPath)).count))
        #expect((samples["swift_auditd_write_latency_seconds_count"] ?? 0) >= 1)
        #expect(samples["swift_auditd_records_lost_total{cause=\"malformed\"}"] == 0)
        #expect(samples["swift_auditd_kernel_backlog_limit"] == Double(daemon.kernel.status.backlogLimit))
        #expect((samples["swift_auditd_disk_free_bytes"] ?? 0) > 0)

        let status = try setup.status()
        #expect(status.status == 0, "\(status.output)")
        #expect(MetricsSamples.parse(status.output)["swift_auditd_records_received_total{type=\"SYSCALL\"}"] == 5)
        #expect(setup.textfileAgrees(with: status.output),
                "textfile:\n\((try? String(contentsOfFile: setup.textfile, encoding: .utf8)) ?? "none")\nstatus:\n\(status.output)")

        try Requirement.check(Requirement.executable("/usr/bin/promtool", package: "prometheus"))
        let checkTextfile = try shell("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(setup.textfile)"])
        #expect(checkTextfile.status == 0, "promtool on the textfile: \(checkTextfile.output)")
        let statusFile = try setup.directory.write(status.output, to: "status.prom")
        let checkStatus = try shell("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(statusFile)"])
        #expect(checkStatus.status == 0, "promtool on status: \(checkStatus.output)")

        // Stopped, the daemon takes its figures away rather than leave them to look current.
        #expect(daemon.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: setup.textfile))
    }

    @Test func aBadSwiftAuditdConfStopsTheStartWithFileLineAndExitSix() throws {
        let directory = try TemporaryDirectory("swift-auditd-metrics-conf")
        defer { directory.remove() }
        try AuditdConf(in: directory).write(to: directory)
        let conf = try directory.write("metrics_textfile = /tmp/x.prom\nmetrics_intervall = 5\n", to: "swift-auditd.conf")
        let daemon = try DaemonProcess(directory: directory, kernel: try FakeKernel())
        #expect(daemon.waitForExit() == 6)
        #expect(daemon.diagnostics.contains("\(conf):2: unknown key \"metrics_intervall\""), "\(daemon.diagnostics)")
    }

    @Test func nodeExporterServesTheSeriesWithTheValuesStatusShows() throws {
        try Requirement.check(Requirement.executable("/usr/bin/prometheus-node-exporter", package: "prometheus-node-exporter"))
        let setup = try Setup()
        defer { setup.directory.remove() }
        let daemon = setup.daemon
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        try setup.emitRecords()
        _ = daemon.waitForLine { $0.contains(":6): user") }
        let status = try setup.status()
        #expect(status.status == 0, "\(status.output)")
        #expect(setup.textfileAgrees(with: status.output))

        let exporter = try NodeExporter(textfileDirectory: setup.textfileDirectory, logDirectory: setup.directory)
        defer { exporter.stop() }
        var scraped: [String: Double] = [:]
        let expected = MetricsSamples.parse(status.output).withoutDiskFree
        let agreed = eventually(interval: .milliseconds(100)) {
            guard let body = exporter.scrape() else { return false }
            scraped = MetricsSamples.parse(body).filter { $0.key.hasPrefix("swift_auditd_") }
            return scraped.withoutDiskFree == expected
        }
        #expect(agreed, "scraped: \(scraped.sorted { $0.key < $1.key })\nexpected: \(expected.sorted { $0.key < $1.key })\nnode_exporter: \(exporter.diagnostics)")
        #expect(scraped["swift_auditd_records_received_total{type=\"SYSCALL\"}"] == 5)
        #expect(scraped["swift_auditd_disk_free_bytes"] != nil)
        #expect(daemon.terminate() == 0)
    }
}

/// Debian's node_exporter with only the textfile collector, on a loopback port of its own, run in
/// the foreground by the test and stopped by its pid.
final class NodeExporter {
    let process = Process()
    let port: UInt16
    let diagnosticsPath: String

    init(textfileDirectory: String, logDirectory: TemporaryDirectory) throws {
        port = try Self.freeLoopbackPort()
        diagnosticsPath = logDirectory.appending("node_exporter.txt")
        _ = FileManager.default.createFile(atPath: diagnosticsPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
        process.arguments = ["--collector.disable-defaults", "--collector.textfile",
                             "--collector.textfile.directory", textfileDirectory,
                             "--web.listen-address", "127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: diagnosticsPath))
        try process.run()
    }

    var diagnostics: String { (try? String(contentsOfFile: diagnosticsPath, encoding: .utf8)) ?? "" }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// `GET /metrics` over a plain TCP connection (HTTP/1.0, so the server closes when done); the
    /// body, or nil when the exporter does not answer (yet).
    func scrape() -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            response += chunk[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.") && text.contains(" 200 "), let split = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[split.upperBound...])
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// A port the kernel just gave a loopback socket of ours (bound, then closed).
    static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// The samples of an exposition, `name{labels}` to value, labels as written (one label at most
/// in swift-auditd's series, so their order cannot differ); comments skipped.
enum MetricsSamples {
    static func parse(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let value = line[line.index(after: space)...]
            samples[String(line[..<space])] = value == "+Inf" ? .infinity : Double(value)
        }
        return samples
    }
}

extension Dictionary where Key == String, Value == Double {
    var withoutDiskFree: [String: Double] { filter { $0.key != "swift_auditd_disk_free_bytes" } }
}
