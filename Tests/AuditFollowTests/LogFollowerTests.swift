import AuditEvents
import AuditFollow
import AuditTestKit
import Foundation
import Testing

/// Lines and notes a follower hands out, collected from its own thread.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var notes: [String] = []
    private var stopping = false

    func add(line: String) { lock.withLock { lines.append(line) } }
    func add(note: String) { lock.withLock { notes.append(note) } }
    func stop() { lock.withLock { stopping = true } }
    var shouldStop: Bool { lock.withLock { stopping } }
    var allLines: [String] { lock.withLock { lines } }
    var allNotes: [String] { lock.withLock { notes } }
}

/// Appends `text` to the file at `path` (made if missing) through a descriptor the caller keeps.
final class Writer {
    let descriptor: Int32
    init(_ path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if descriptor < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }
    deinit { close(descriptor) }
}

@Suite(.timeLimit(.minutes(1)))
struct LogFollowerTests {
    func read(_ path: String, follow: Bool = false) -> (lines: [String], notes: [String]) {
        let collected = Collected()
        LogFollower(path: path, follow: follow, note: { collected.add(note: $0) })
            .run(line: { collected.add(line: String(decoding: $0, as: UTF8.self)) }, idle: { !collected.shouldStop })
        return (collected.allLines, collected.allNotes)
    }

    @Test func rotatedFilesAreReadOldestFirstThenTheLiveOne() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.appending("audit.log")
        try directory.write("three\n", to: "audit.log.3")
        try directory.write("two\n", to: "audit.log.2")
        try directory.write("one\n", to: "audit.log.1")
        try directory.write("live\n", to: "audit.log")
        let result = read(log)
        #expect(result.lines == ["three", "two", "one", "live"])
        #expect(result.notes.isEmpty)
    }

    @Test func aFileEndingInATornLineGivesItAsALineAndSaysSo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whole\ntor", to: "audit.log.1")
        try directory.write("n\nlive\n", to: "audit.log")
        let result = read(directory.appending("audit.log"))
        #expect(result.lines == ["whole", "tor", "n", "live"], "bytes of one file never join another's")
        #expect(result.notes.count == 1)
        #expect(result.notes.first?.contains("audit.log.1 ends with 3 bytes without a newline") == true)
    }

    @Test func aMissingLogIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = read(directory.appending("audit.log"))
        #expect(result.lines.isEmpty)
        #expect(result.notes.first?.contains("cannot open \(directory.appending("audit.log")): No such file or directory") == true)
    }

    /// auditd's rotation under a follower: the daemon renames audit.log to audit.log.1, finishes
    /// nothing more in it, and starts a new audit.log. Here the rename even comes in the middle of a
    /// line whose end is written to the renamed file afterwards.
    @Test func followingAcrossARotationLosesAndRepeatsNothingEvenMidLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.appending("audit.log")
        let old = try Writer(log)
        old.write("a1\na2\nhalf-")
        let collected = Collected()
        let thread = Thread {
            LogFollower(path: log, follow: true, pollInterval: .milliseconds(5), note: { collected.add(note: $0) }).run(line: { collected.add(line: String(decoding: $0, as: UTF8.self)) }, idle: { !collected.shouldStop })
        }
        thread.start()
        #expect(eventually { collected.allLines == ["a1", "a2"] })
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        old.write("line\na3\n")
        let new = try Writer(log)
        new.write("b1\nb2\n")
        #expect(eventually { collected.allLines.count >= 6 })
        new.write("b3\n")
        #expect(eventually { collected.allLines.count >= 7 })
        collected.stop()
        #expect(eventually { thread.isFinished })
        #expect(collected.allLines == ["a1", "a2", "half-line", "a3", "b1", "b2", "b3"])
        #expect(collected.allNotes.isEmpty)
    }

    @Test func aTruncatedLogIsReadAgainFromItsStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.appending("audit.log")
        let writer = try Writer(log)
        writer.write("first\nsecond\n")
        let collected = Collected()
        let thread = Thread {
            LogFollower(path: log, follow: true, pollInterval: .milliseconds(5), note: { collected.add(note: $0) }).run(line: { collected.add(line: String(decoding: $0, as: UTF8.self)) }, idle: { !collected.shouldStop })
        }
        thread.start()
        #expect(eventually { collected.allLines.count == 2 })
        ftruncate(writer.descriptor, 0)
        writer.write("new\n")
        #expect(eventually { collected.allLines.count == 3 })
        collected.stop()
        #expect(eventually { thread.isFinished })
        #expect(collected.allLines == ["first", "second", "new"])
        #expect(collected.allNotes.first?.contains("was truncated") == true)
    }
}
