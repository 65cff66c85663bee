import AuditTestKit
import Foundation

/// `swift-auditd-otlp CONFIG` as auditd runs it: a child whose standard input is a pipe the test
/// writes record lines to, with its diagnostics in a file.
final class PluginProcess {
    let process = Process()
    let input = Pipe()
    let diagnosticsPath: String
    let queueDirectory: String

    /// The plugin built beside the tests (`.build/debug/swift-auditd-otlp`), or `SWIFT_AUDITD_OTLP_BINARY`.
    static var executablePath: String {
        if let path = ProcessInfo.processInfo.environment["SWIFT_AUDITD_OTLP_BINARY"] { return path }
        return URL(fileURLWithPath: builtDaemonPath()).deletingLastPathComponent().appendingPathComponent("swift-auditd-otlp").path
    }

    static var unmetRequirement: String? {
        FileManager.default.isExecutableFile(atPath: executablePath) ? nil : "swift-auditd-otlp is not built at \(executablePath)"
    }

    init(configuration: String, queueDirectory: String, diagnostics: String) throws {
        self.queueDirectory = queueDirectory
        diagnosticsPath = diagnostics
        if !FileManager.default.fileExists(atPath: diagnostics) { _ = FileManager.default.createFile(atPath: diagnostics, contents: nil) }
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        process.arguments = [configuration]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: diagnostics))
        log.seekToEndOfFile()
        process.standardError = log
        try process.run()
    }

    /// Writes lines (each with its newline) to the plugin's standard input.
    func send(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// End of input, as when auditd closes the plugin's pipe at stop.
    func closeInput() { try? input.fileHandleForWriting.close() }

    func waitForExit(timeout: Duration = .seconds(30)) -> Int32? {
        guard eventually(timeout: timeout, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill(_ signal: Int32) { if process.isRunning { Foundation.kill(process.processIdentifier, signal) } }

    var diagnostics: String { (try? String(contentsOfFile: diagnosticsPath, encoding: .utf8)) ?? "" }

    /// `queue_dir/status`, the counters the plugin rewrites every second and at exit.
    func status() -> [String: Int] {
        guard let text = try? String(contentsOfFile: queueDirectory + "/status", encoding: .utf8) else { return [:] }
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let value = Int(parts[2]) { values[String(parts[0])] = value }
        }
        return values
    }

    deinit {
        if process.isRunning { kill(SIGKILL); process.waitUntilExit() }
    }
}
