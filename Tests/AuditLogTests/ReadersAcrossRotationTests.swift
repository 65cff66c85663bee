import AuditLog
import AuditTestKit
import Foundation
import Testing

/// What readers of /var/log/audit see across a rotation: `tail -F` follows the new file, and
/// ausearch reads every file of the set (`-if FILE` one at a time, `-if DIR` the whole set, the
/// way it walks `audit.log`, `.1`, `.2`, … until the first gap).
@Suite struct ReadersAcrossRotationTests {
    /// `tail -F` on a file, started with `posix_spawn`, its output collected until the test ends
    /// it (by its own pid, with SIGKILL: a signal the test runner may ignore cannot keep it alive).
    final class Tail {
        let pid: pid_t
        let output: Int32
        private var seen = ""

        init(_ path: String) throws {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw POSIXError(.EIO) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
            posix_spawn_file_actions_addclose(&actions, ends[0])
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var defaults = sigset_t()
            sigemptyset(&defaults)
            sigaddset(&defaults, SIGTERM)
            var empty = sigset_t()
            sigemptyset(&empty)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setsigmask(&attributes, &empty)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
            let arguments = ["/usr/bin/tail", "-n", "+1", "-F", "-s", "0.1", path]
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var child: pid_t = 0
            let result = posix_spawn(&child, arguments[0], &actions, &attributes, &argv, environ)
            close(ends[1])
            guard result == 0 else {
                close(ends[0])
                throw POSIXError(.EIO)
            }
            pid = child
            output = ends[0]
            _ = fcntl(output, F_SETFL, O_NONBLOCK)
        }

        /// Waits until the output contains `text`.
        func waitFor(_ text: String) -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            return eventually(interval: .milliseconds(20)) {
                while case let count = read(output, &chunk, chunk.count), count > 0 {
                    seen += String(decoding: chunk[0..<count], as: UTF8.self)
                }
                return seen.contains(text)
            }
        }

        var text: String { seen }

        func stop() {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            close(output)
        }
    }

    @Test func tailFollowsTheNewFileAfterARotation() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.appending("audit.log")
        let writer = try AuditLogWriter(settings: LogSettings(path: path, rotation: RotationPolicy(action: .rotate, numLogs: 3)),
                                        systemActions: RecordedSystemActions())
        Records.append(writer, Records.syscall(1, key: "before"))
        try writer.flush()
        let tail = try Tail(path)
        defer { tail.stop() }
        #expect(tail.waitFor("key=\"before\""))
        writer.rotate(reason: "test")
        Records.append(writer, Records.syscall(2, key: "after-rotation"))
        try writer.flush()
        #expect(tail.waitFor("key=\"after-rotation\""), "tail -F printed: \(tail.text)")
        #expect(tail.text.components(separatedBy: "key=\"before\"").count == 2, "the old file's line is not repeated")
    }

    func ausearch(_ arguments: [String]) throws -> [String] {
        let result = try output(of: ["/usr/sbin/ausearch", "--raw"] + arguments)
        return result.text.split(separator: "\n").map(String.init)
    }

    @Test func ausearchReadsEveryRotatedFileAndTheWholeSet() throws {
        try Requirement.check(Requirement.executable("/usr/sbin/ausearch", package: "auditd"))
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try AuditLogWriter(
            settings: LogSettings(path: scratch.appending("audit.log"), rotation: RotationPolicy(maxLogFileMiB: 1, action: .rotate, numLogs: 4)),
            systemActions: RecordedSystemActions())
        // ~3.3 MiB: three size rotations, four files.
        for serial in 1...4000 {
            Records.append(writer, Records.syscall(serial, key: "set", padding: 700))
            if serial % 64 == 0 { try writer.flush() }
        }
        try writer.flush()
        #expect(writer.rotations == 3)
        var total = 0
        for name in ["audit.log.3", "audit.log.2", "audit.log.1", "audit.log"] {
            let lines = try scratch.lines(name)
            let found = try ausearch(["-if", scratch.appending(name), "-k", "set"])
            #expect(found.count == lines.count, "ausearch -if \(name) finds every record in it")
            #expect(found.first == lines.first, "\(name) starts with a stamped record")
            total += found.count
        }
        #expect(total == 4000)
        let whole = try ausearch(["-if", scratch.path, "-k", "set"])
        #expect(whole.count == 4000, "ausearch -if DIR walks audit.log, .1, .2, .3")
        #expect(Set(whole).count == 4000)
    }
}
