import AuditDaemon
import AuditProtocol
import AuditTestKit
import Foundation

/// The real `swift-auditd` executable, started as a child with a `FakeKernel`'s end of the socket
/// pair as its standard input (`run --kernel-fd 0`), its own auditd.conf and run directory, so a
/// test can send it real signals and read what it wrote. No root needed.
final class SpawnedDaemon {
    let kernel: FakeKernel
    let directory: TemporaryDirectory
    let process = Process()
    let logPath: String
    let run: RunDirectory
    let diagnosticsPath: String

    /// What the fake kernel answers to `AUDIT_SIGNAL_INFO` unless a test says otherwise: this test
    /// process, which is the one sending the signals.
    static var testProcessSender: SignalInfo { SignalInfo(uid: 0, pid: getpid()) }

    init(_ behaviour: FakeKernel.Behaviour? = nil, arguments: [String] = [], environment: [String: String] = [:],
         configuration: String? = nil, extraConfiguration: String = "") throws {
        var behaviour = behaviour ?? FakeKernel.Behaviour()
        if behaviour.signalInfo == nil { behaviour.signalInfo = Self.testProcessSender }
        kernel = try FakeKernel(behaviour)
        directory = try TemporaryDirectory("swift-auditd-spawned")
        logPath = directory.appending("log/audit.log")
        run = RunDirectory(directory.appending("run"))
        diagnosticsPath = directory.appending("diagnostics.txt")
        // num_logs as Debian's auditd.conf ships it: with auditd's compiled default (0) SIGUSR1 does not rotate.
        try directory.write(configuration ?? "log_file = \(logPath)\nlog_format = RAW\nnum_logs = 5\n\(extraConfiguration)", to: "auditd.conf")
        _ = FileManager.default.createFile(atPath: diagnosticsPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: builtDaemonPath())
        process.arguments = ["run", "-c", directory.path, "--run-directory", run.path, "--kernel-fd", "0"] + arguments
        process.standardInput = FileHandle(fileDescriptor: kernel.daemonSocket.descriptor, closeOnDealloc: false)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: diagnosticsPath))
        process.standardOutput = FileHandle.nullDevice
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits until the fake kernel has the child registered.
    func waitUntilRegistered() -> Bool {
        kernel.wait { $0.isRegistered && $0.status.pid == UInt32(pid) }
    }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the child's exit status; nil if it still runs after `timeout`.
    func waitForExit(timeout: TimeInterval = 20) -> Int32? {
        let deadline = Date() + timeout
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func lines(_ name: String = "log/audit.log") -> [String] { (try? directory.lines(of: name)) ?? [] }

    /// Waits until a line of `name` satisfies `condition`; returns the file's lines.
    func waitForLine(in name: String = "log/audit.log", timeout: TimeInterval = 10,
                     where condition: (String) -> Bool) -> [String] {
        let deadline = Date() + timeout
        var lines: [String] = []
        while Date() < deadline {
            lines = self.lines(name)
            if lines.contains(where: condition) { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return lines
    }

    var diagnostics: String { (try? String(contentsOfFile: diagnosticsPath, encoding: .utf8)) ?? "" }

    /// The daemon's process state letter from `/proc/PID/stat` (`S` sleeping, `T` stopped, …).
    var processState: Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)...].first
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        directory.remove()
    }
}

/// Runs the executable with `arguments` (a control command), optionally with a fake kernel's
/// socket as standard input; returns its exit status and output.
func runCommand(_ arguments: [String], kernel: FakeKernel? = nil) throws -> (status: Int32, output: String) {
    try shell(builtDaemonPath(), arguments, input: kernel?.daemonSocket.descriptor)
}
