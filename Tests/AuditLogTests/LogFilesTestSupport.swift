import AuditProtocol
import AuditLog
import AuditTestKit
import Foundation
import Testing

/// A scratch directory for one log-file test, removed at the end.
struct Scratch {
    let path: String

    init(_ prefix: String = "swift-auditd-logfiles") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    func appending(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// The lines of a file, without newlines; whether the file ends with a newline.
    func lines(_ name: String) throws -> [String] {
        try Self.lines(atPath: appending(name))
    }

    static func lines(atPath path: String) throws -> [String] {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func endsWithNewline(_ path: String) throws -> Bool {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.isEmpty || data.last == 0x0A
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: appending(name)) }

    /// `st_mode & 0o7777`, `st_uid`, `st_gid`, size of a path (not following a symlink).
    func status(_ name: String) -> (mode: Int, uid: UInt32, gid: UInt32, size: Int)? {
        var info = stat()
        guard lstat(appending(name), &info) == 0 else { return nil }
        return (Int(info.st_mode & 0o7777), info.st_uid, info.st_gid, Int(info.st_size))
    }

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: appending(name), atomically: false, encoding: .utf8)
    }
}

/// Records for the writer: realistic SYSCALL payloads that ausearch understands.
enum Records {
    static func syscall(_ serial: Int, key: String = "logfiles", padding: Int = 0) -> String {
        let pad = padding > 0 ? " proctitle=" + String(repeating: "a", count: padding) : ""
        return "audit(\(1_700_000_000 + serial).000:\(serial)): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
            + "items=0 ppid=1 pid=100 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 "
            + "comm=\"true\" exe=\"/usr/bin/true\" key=\"\(key)\"\(pad)"
    }

    static func append(_ writer: AuditLogWriter, _ payload: String, type: UInt16 = 1300) {
        Array(payload.utf8).withUnsafeBytes { writer.append(type: AuditMessageType(type), payload: $0) }
    }
}

/// System actions that only record what they were asked: tests never run programs or change
/// the run level.
final class RecordedSystemActions: SystemActions, @unchecked Sendable {  // used from the test's thread only
    private(set) var executed: [String] = []
    private(set) var runlevels: [Runlevel] = []
    func run(executable path: String) { executed.append(path) }
    func changeRunlevel(_ level: Runlevel) { runlevels.append(level) }
}

/// Collects a writer's events.
final class EventLog {
    private(set) var events: [LogFileEvent] = []
    var sink: (LogFileEvent) -> Void { { self.events.append($0) } }
    func count(_ kind: LogFileEvent.Kind) -> Int { events.filter { $0.kind == kind }.count }
    var messages: [String] { events.map(\.message) }
}

/// The open flags of the descriptor this process holds on `path` (from /proc/self/fdinfo).
func openFlags(ofDescriptorOn path: String) -> Int32? {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
    for entry in entries {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
              target == path,
              let info = try? String(contentsOfFile: "/proc/self/fdinfo/\(entry)", encoding: .utf8) else { continue }
        for line in info.split(separator: "\n") where line.hasPrefix("flags:") {
            return Int32(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
        }
    }
    return nil
}

/// A small tmpfs mounted for one test (root only). When it cannot be mounted the test ends through
/// `Requirement`: skipped with the reason, or failed in CI.
final class SmallFileSystem {
    let scratch: Scratch
    let mountPoint: String

    init(kibibytes: Int) throws {
        try Requirement.check(Requirement.root.map { "\($0) to mount a tmpfs" })
        scratch = try Scratch("swift-auditd-tmpfs")
        mountPoint = scratch.appending("fs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let status = run(["/bin/mount", "-t", "tmpfs", "-o", "size=\(kibibytes)k,mode=0700", "tmpfs", mountPoint])
        guard status == 0 else {
            scratch.remove()
            try Requirement.unmet("mount -t tmpfs failed (status \(status))")
        }
    }

    func appending(_ name: String) -> String { mountPoint + "/" + name }

    /// Fills the file system with `name` until `keepKiB` are left (ENOSPC ends it).
    func ballast(_ name: String, leavingKiB keepKiB: Int) {
        let fd = open(appending(name), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x42, count: 4096)
        while true {
            var info = statvfs()
            guard fstatvfs(fd, &info) == 0 else { return }
            if UInt64(info.f_bavail) * UInt64(info.f_frsize) <= UInt64(keepKiB) * 1024 { return }
            if chunk.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) <= 0 { return }
        }
    }

    func unmount() {
        _ = run(["/bin/umount", mountPoint])
        scratch.remove()
    }
}

/// Runs a program to its end; its exit status.
@discardableResult
func run(_ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

/// Runs a program and returns its standard output.
func output(of arguments: [String]) throws -> (status: Int32, text: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
