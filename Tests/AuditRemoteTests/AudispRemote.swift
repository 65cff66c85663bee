import AuditTestKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `audisp-remote` (audispd-plugins 3.0.9) run as auditd runs its plugins: records as
/// lines on a pipe to its standard input. It reads only `/etc/audit/audisp-remote.conf`, so a
/// test edits that file and puts it back byte for byte, under a lock across test processes.
enum AudispRemote {
    static let executable = "/sbin/audisp-remote"
    static let configuration = "/etc/audit/audisp-remote.conf"

    /// Why the tests cannot run here, or nil.
    static var unavailable: String? {
        Requirement.root ?? Requirement.executable(executable, package: "audispd-plugins")
    }

    /// Runs `body` with `remote_server` and `port` set in audisp-remote.conf (`format = managed`,
    /// `transport = tcp`, no heartbeat); the file is restored byte for byte and mode for mode after.
    static func withConfiguration<T>(server: String, port: Int, _ body: () throws -> T) throws -> T {
        let lock = open("/tmp/swift-auditd-audisp-remote-conf.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw TestClient.Failure(description: "cannot open the audisp-remote.conf lock") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        let saved = try Data(contentsOf: URL(fileURLWithPath: configuration))
        defer {
            // The same inode, owner and mode: only the bytes are written back.
            let restored = FileHandle(forUpdatingAtPath: configuration)
            try? restored?.truncate(atOffset: 0)
            try? restored?.write(contentsOf: saved)
            try? restored?.close()
        }
        var lines = String(decoding: saved, as: UTF8.self).components(separatedBy: "\n")
        let wanted = ["remote_server": server, "port": String(port), "format": "managed", "transport": "tcp",
                      "heartbeat_timeout": "0", "mode": "immediate"]
        var seen = Set<String>()
        for (index, line) in lines.enumerated() {
            let key = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if let value = wanted[key] {
                lines[index] = "\(key) = \(value)"
                seen.insert(key)
            }
        }
        for (key, value) in wanted where !seen.contains(key) { lines.insert("\(key) = \(value)", at: 0) }
        let edited = FileHandle(forUpdatingAtPath: configuration)
        try edited?.truncate(atOffset: 0)
        try edited?.write(contentsOf: Data(lines.joined(separator: "\n").utf8))
        try edited?.close()
        return try body()
    }

    /// Feeds `records` (one per line) to audisp-remote's standard input, closes it and waits for
    /// audisp-remote to exit (it sends what it has queued first): its exit status, 0 when its
    /// queue is empty, that is, every record was acknowledged. `prefix` runs it elsewhere
    /// (`ip netns exec NAME`).
    static func send(_ records: [String], prefix: [String] = [], timeout: Duration = .seconds(60)) throws -> Int32 {
        let process = try start(records, prefix: prefix)
        return try waitForExit(process, timeout: timeout)
    }

    /// Starts audisp-remote with `records` on its standard input, then closed; returns at once.
    static func start(_ records: [String], prefix: [String] = []) throws -> Process {
        let process = Process()
        let command = prefix + [executable]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data((records.joined(separator: "\n") + "\n").utf8))
        try input.fileHandleForWriting.close()
        return process
    }

    /// Waits for audisp-remote to exit; its exit status (0: every record was acknowledged).
    static func waitForExit(_ process: Process, timeout: Duration = .seconds(60)) throws -> Int32 {
        guard eventually(timeout: timeout, { !process.isRunning }) else {
            // Ours, by its pid.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestClient.Failure(description: "audisp-remote did not finish within \(timeout)")
        }
        return process.terminationStatus
    }
}

/// A network namespace with a veth pair to the test's own namespace: a client host whose only
/// link leads to the server. Removed (with its veth pair) by `remove()`.
struct ClientHost {
    let name: String
    let hostSide: String
    let serverAddress: String
    let clientAddress: String

    init() throws {
        let id = getpid() % 10_000
        name = "swauditd-c\(id)"
        hostSide = "swah\(id)"
        let clientSide = "swac\(id)"
        // A /30 from 10.251.0.0/16 of its own per process.
        let third = Int(id % 250)
        serverAddress = "10.251.\(third).1"
        clientAddress = "10.251.\(third).2"
        let steps: [[String]] = [
            ["netns", "add", name],
            ["link", "add", hostSide, "type", "veth", "peer", "name", clientSide],
            ["link", "set", clientSide, "netns", name],
            ["addr", "add", "\(serverAddress)/30", "dev", hostSide],
            ["link", "set", hostSide, "up"],
            ["-n", name, "addr", "add", "\(clientAddress)/30", "dev", clientSide],
            ["-n", name, "link", "set", clientSide, "up"],
            ["-n", name, "link", "set", "lo", "up"],
        ]
        for step in steps {
            let (status, output) = try shell("/usr/sbin/ip", step)
            guard status == 0 else {
                remove()
                throw TestClient.Failure(description: "ip \(step.joined(separator: " ")): \(output)")
            }
        }
    }

    var exec: [String] { ["/usr/sbin/ip", "netns", "exec", name] }

    func remove() {
        _ = try? shell("/usr/sbin/ip", ["netns", "del", name])
        _ = try? shell("/usr/sbin/ip", ["link", "del", hostSide])
    }
}
