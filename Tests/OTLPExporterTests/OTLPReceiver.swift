import AuditTestKit
import Foundation

/// The Python OTLP/HTTP receiver (Receiver/otlp-receiver.py, PyPI's opentelemetry-proto) run as a
/// child process on 127.0.0.1: what it decoded, what it answered, and what it should answer next.
final class OTLPReceiver {
    let directory: TemporaryDirectory
    private(set) var process: Process?
    private(set) var port = 0

    var endpoint: String { "http://127.0.0.1:\(port)/v1/logs" }
    var outputPath: String { directory.appending("received.jsonl") }
    var requestsPath: String { directory.appending("requests.jsonl") }
    var modePath: String { directory.appending("mode") }

    static var script: String {
        Bundle.module.url(forResource: "Receiver", withExtension: nil)!.appendingPathComponent("otlp-receiver.py").path
    }

    /// Why the receiver cannot run here, or nil.
    static var unmetRequirement: String? {
        guard let status = try? shell("/usr/bin/env", ["python3", "-c", "import opentelemetry.proto.collector.logs.v1.logs_service_pb2"]).status,
              status == 0 else {
            return "needs python3 with opentelemetry-proto (pip install opentelemetry-proto; make deps installs it)"
        }
        return nil
    }

    init(directory: TemporaryDirectory) throws {
        self.directory = directory
        try start()
    }

    /// Starts the receiver: on a free port the first time, on the same port after `stop()`.
    func start() throws {
        let portFile = directory.appending("port")
        try? FileManager.default.removeItem(atPath: portFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--port", String(port), "--port-file", portFile,
                             "--output", outputPath, "--requests", requestsPath, "--mode-file", modePath]
        process.standardOutput = FileHandle.nullDevice
        let log = directory.appending("receiver.log")
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        self.process = process
        guard eventually(timeout: .seconds(20), { FileManager.default.fileExists(atPath: portFile) || !process.isRunning }),
              let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            throw ReceiverError("the receiver did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    /// Stops it (SIGTERM, then waits): the plugin's next connections are refused.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    /// What the receiver answers from its next request on (see the script's docstring).
    func answer(_ mode: String) throws {
        try (mode + "\n").write(toFile: modePath + ".new", atomically: false, encoding: .utf8)
        guard rename(modePath + ".new", modePath) == 0 else { throw ReceiverError("rename \(modePath)") }
    }

    /// Every LogRecord received, as the receiver decoded it.
    func records() -> [[String: Any]] { Self.jsonLines(outputPath) }
    /// Every request, with the status it was answered.
    func requests() -> [[String: Any]] { Self.jsonLines(requestsPath) }

    /// The `audit.stamp` attribute of every record received, duplicates included.
    func stamps() -> [String] {
        records().compactMap { ($0["attributes"] as? [String: Any])?["audit.stamp"] as? String }
    }

    private static func jsonLines(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        // A line still being written has no newline yet: only whole lines count.
        return text.split(separator: "\n", omittingEmptySubsequences: true).dropLast(text.hasSuffix("\n") ? 0 : 1).compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    deinit { stop() }
}

struct ReceiverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
