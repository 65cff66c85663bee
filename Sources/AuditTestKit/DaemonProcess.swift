import Foundation

/// The `swift-auditd` executable run as a child process, `run -c DIRECTORY`, on the real kernel or
/// with a `FakeKernel`'s end of the socket pair as its standard input (`--kernel-fd 0`). Its PID
/// file and state report go to `DIRECTORY/run`, never to the machine's /run/audit; its diagnostics
/// to a file in the directory. The caller owns the directory, so a second process can start on the
/// same log after the first one, unless it hands the directory over (`removesDirectory`).
public final class DaemonProcess {
    public let process = Process()
    public let directory: TemporaryDirectory
    public let diagnosticsPath: String
    /// The fake kernel the process was started on, kept alive as long as the process; nil on the real kernel.
    public let fakeKernel: FakeKernel?
    private let removesDirectory: Bool

    /// Starts the daemon on the auditd.conf already in `directory`.
    public init(directory: TemporaryDirectory, kernel: FakeKernel? = nil, arguments: [String] = [],
                environment: [String: String] = [:], diagnostics: String = "diagnostics.txt",
                removesDirectory: Bool = false) throws {
        self.directory = directory
        self.removesDirectory = removesDirectory
        fakeKernel = kernel
        diagnosticsPath = directory.appending(diagnostics)
        _ = FileManager.default.createFile(atPath: diagnosticsPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        var runArguments = ["run", "-c", directory.path, "--run-directory", directory.appending("run")]
        if let kernel {
            runArguments += ["--kernel-fd", "0"]
            process.standardInput = FileHandle(fileDescriptor: kernel.daemonSocket.descriptor, closeOnDealloc: false)
        }
        process.arguments = runArguments + arguments
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: diagnosticsPath))
        process.standardOutput = FileHandle.nullDevice
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
    }

    /// The binary under test: `SWIFT_AUDITD_BINARY` when set (`make test-load` runs the release
    /// build), else the one built beside the tests.
    public static var executablePath: String {
        ProcessInfo.processInfo.environment["SWIFT_AUDITD_BINARY"] ?? builtDaemonPath()
    }

    public var pid: Int32 { process.processIdentifier }
    public var runDirectory: String { directory.appending("run") }
    public var diagnostics: String { (try? String(contentsOfFile: diagnosticsPath, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { if process.isRunning { kill(pid, number) } }

    /// Waits for the exit status; nil if the process still runs after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(20)) -> Int32? {
        guard eventually(timeout: timeout, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends SIGTERM and waits for the exit status (nil: still running after 20 s).
    public func terminate() -> Int32? {
        signal(SIGTERM)
        return waitForExit()
    }

    /// SIGKILL: no drain, no unregistration, no last write.
    public func killAbruptly() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// A number from the daemon's closing summary (`received=…`, `written=…`, `enobufs=…`).
    public func summaryFigure(_ name: String) -> Int? {
        guard let line = diagnostics.split(separator: "\n").last(where: { $0.contains("stopped;") }),
              let range = line.range(of: " \(name)=") ?? line.range(of: ": \(name)=")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// Whether every record received was written: the lines written are the records received plus
    /// the daemon's own (DAEMON_START, DAEMON_END).
    public var receivedAllWritten: Bool {
        guard let received = summaryFigure("received"), let written = summaryFigure("written"),
              let own = summaryFigure("daemon_records") else { return false }
        return received + own == written
    }

    /// The lines of `name` under the directory (the log by default); empty while it does not exist.
    public func lines(_ name: String = "log/audit.log") -> [String] { (try? directory.lines(of: name)) ?? [] }

    /// Waits until a line of `name` satisfies `condition`; returns the file's lines then.
    public func waitForLine(in name: String = "log/audit.log", timeout: Duration = .seconds(10),
                            where condition: (String) -> Bool) -> [String] {
        var lines: [String] = []
        eventually(timeout: timeout) {
            lines = self.lines(name)
            return lines.contains(where: condition)
        }
        return lines
    }

    /// The process state letter from `/proc/PID/stat` (`S` sleeping, `T` stopped, …).
    public var processState: Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)...].first
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        if removesDirectory { directory.remove() }
    }
}
