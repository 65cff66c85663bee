import AuditNetlink
import AuditProtocol
import AuditTestKit
import Foundation
import Synchronization

/// One swift-auditd process for the proof tests (forged senders, faults, load). The caller owns the
/// configuration directory, so a second process can start on the same log after the first one.
final class DaemonUnderTest {
    let process = Process()
    let diagnosticsPath: String

    /// Starts `swift-auditd run -c DIRECTORY` plus `arguments`, its diagnostics going to `diagnostics`.
    init(directory: TemporaryDirectory, arguments: [String] = [], diagnostics: String = "diagnostics.txt") throws {
        diagnosticsPath = directory.appending(diagnostics)
        _ = FileManager.default.createFile(atPath: diagnosticsPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        // The PID file and state report stay in the test's directory, not the machine's /run/audit.
        process.arguments = ["run", "-c", directory.path, "--run-directory", directory.appending("run")] + arguments
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: diagnosticsPath))
        try process.run()
    }

    /// The binary under test: `SWIFT_AUDITD_BINARY` when set (`make test-load` runs the release
    /// build), else the one built beside the tests.
    static var executablePath: String {
        ProcessInfo.processInfo.environment["SWIFT_AUDITD_BINARY"] ?? builtDaemonPath()
    }

    /// Writes `auditd.conf` for a RAW log at `log/audit.log` in `directory`; returns the log's path.
    @discardableResult
    static func configure(_ directory: TemporaryDirectory, extra: String = "") throws -> String {
        let log = directory.appending("log/audit.log")
        // num_logs as Debian's auditd.conf ships it: with auditd's compiled default (0) SIGUSR1 does not rotate.
        try directory.write("log_file = \(log)\nlog_format = RAW\nnum_logs = 5\n\(extra)", to: "auditd.conf")
        return log
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits until the kernel reports this process as its audit daemon.
    func waitUntilRegistered(timeout: TimeInterval = 10) -> Bool {
        let deadline = Date() + timeout
        while Date() < deadline {
            if let status = try? RealKernel.status(), status.pid == UInt32(pid) { return true }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Sends SIGTERM and waits for the exit status.
    func terminate() -> Int32 {
        if process.isRunning { kill(pid, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: no drain, no unregistration, no last write.
    func killAbruptly() {
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    var diagnostics: String { (try? String(contentsOfFile: diagnosticsPath, encoding: .utf8)) ?? "" }

    /// A number from the daemon's closing summary (`received=…`, `written=…`, `enobufs=…`).
    func summaryFigure(_ name: String) -> Int? {
        guard let line = diagnostics.split(separator: "\n").last(where: { $0.contains("stopped;") }),
              let range = line.range(of: " \(name)=") ?? line.range(of: ": \(name)=")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// Whether every record received was written: the lines written are the records received plus
    /// the daemon's own (DAEMON_START, DAEMON_END).
    var receivedAllWritten: Bool {
        guard let received = summaryFigure("received"), let written = summaryFigure("written"),
              let own = summaryFigure("daemon_records") else { return false }
        return received + own == written
    }

    /// The netlink port id of the daemon's `NETLINK_AUDIT` socket, read from /proc: the inodes of
    /// the process's sockets (`/proc/PID/fd`) matched against the kernel's netlink table
    /// (`/proc/PID/net/netlink`: sk, Eth (protocol), Pid (port id), …, Inode). The kernel sends
    /// records to this port, the one the registering socket is bound to.
    func auditPortID() -> UInt32? {
        let fdDirectory = "/proc/\(pid)/fd"
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { return nil }
        var inodes = Set<String>()
        for descriptor in descriptors {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(descriptor)"),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        guard let table = try? String(contentsOfFile: "/proc/\(pid)/net/netlink", encoding: .utf8) else { return nil }
        for row in table.split(separator: "\n").dropFirst() {
            let fields = row.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 10, fields[1] == "9", inodes.contains(String(fields[9])) else { continue }
            return UInt32(fields[2])
        }
        return nil
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// An audit rule on `getppid` for this test process only, with a key of its own: each call is
/// one event (SYSCALL, PROCTITLE, EOE).
struct GetppidLoadRule {
    let key = "swift-auditd-proof-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    var arguments: [String] { ["always,exit", "-F", "arch=b64", "-S", "getppid", "-F", "pid=\(getpid())", "-k", key] }
    func add() throws { try RealKernel.auditctl(["-a"] + arguments) }
    func delete() { _ = try? shell("/usr/sbin/auditctl", ["-d"] + arguments) }
}

/// Calls `getppid` on a thread of its own until stopped, `limit` calls, or `seconds` pass.
final class GetppidLoad: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let calls = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(limit: Int, seconds: TimeInterval) {
        let thread = Thread { [self] in
            let deadline = Date() + seconds
            var made = 0
            while !stopFlag.load(ordering: .relaxed), made < limit {
                _ = getppid()
                made += 1
                calls.store(made, ordering: .relaxed)
                if made & 1023 == 0, Date() >= deadline { break }
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops the calls and returns how many were made.
    @discardableResult
    func stop() -> Int {
        stopFlag.store(true, ordering: .relaxed)
        return waitUntilDone()
    }

    /// Waits for the thread to end by itself and returns how many calls it made.
    func waitUntilDone() -> Int {
        done.wait()
        done.signal()
        return calls.load(ordering: .relaxed)
    }

    var made: Int { calls.load(ordering: .relaxed) }
}

/// Sends `AUDIT_USER` records to the kernel, as `auditctl -m` does.
func sendUserRecords(_ texts: [String]) throws {
    let socket = try AuditSocket.kernel()
    for (index, text) in texts.enumerated() {
        let request = NetlinkRequest(type: .user, sequence: UInt32(index + 1), wantsAck: false, payload: Array(text.utf8) + [0])
        try socket.send(request.bytes)
    }
}

/// The lines of a log file, and whether its last byte ends a line.
func readLog(_ path: String) throws -> (lines: [Substring], endsWithNewline: Bool, bytes: Int) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let text = String(decoding: data, as: UTF8.self)
    return (text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(data.last == 0x0A ? 1 : 0).map { $0 },
            data.last == 0x0A, data.count)
}

/// Whether a line is a whole RAW record line: `type=NAME msg=audit(SECONDS.MMM:SERIAL): …`.
func isWholeRecordLine(_ line: Substring) -> Bool {
    guard line.hasPrefix("type="), let msg = line.range(of: " msg=audit(") else { return false }
    let rest = line[msg.upperBound...]
    guard let close = rest.firstIndex(of: ")") else { return false }
    let stamp = rest[..<close].split(separator: ":")
    guard stamp.count == 2, stamp[1].allSatisfy(\.isNumber), !stamp[1].isEmpty else { return false }
    let time = stamp[0].split(separator: ".")
    return time.count == 2 && time[1].count == 3 && time.allSatisfy { $0.allSatisfy(\.isNumber) }
}
