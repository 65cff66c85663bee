import AuditTestKit
import Foundation
import Testing

/// The log made unwritable under the running daemon. `chattr +i` makes every write to the open
/// file fail with EPERM, even for root (permissions would not stop root, and a removed directory
/// does not stop writes to a file that is already open).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UnwritableLogTests {
    func cannotRun() -> String? {
        if !FileManager.default.isExecutableFile(atPath: DaemonUnderTest.executablePath) {
            return "the swift-auditd executable is not built at \(DaemonUnderTest.executablePath)"
        }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr") { return "needs chattr (e2fsprogs)" }
        return nil
    }

    static func chattr(_ flag: String, _ path: String) -> Bool {
        ((try? shell("/usr/bin/chattr", [flag, path]))?.status ?? 1) == 0
    }

    static func syscallLines(_ path: String, key: String) -> Int {
        ((try? readLog(path).lines) ?? []).filter { $0.hasPrefix("type=SYSCALL ") && $0.contains(key) }.count
    }

    @Test func realKernelALogMadeUnwritableForAMomentIsReportedOnceAndLosesNothing() throws {
        try RealKernel.withExclusiveUse("log made unwritable", alsoSkipIf: cannotRun) {
            let directory = try TemporaryDirectory("swift-auditd-unwritable")
            defer { directory.remove() }
            let logPath = try DaemonUnderTest.configure(directory)
            let daemon = try DaemonUnderTest(directory: directory)
            try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            let rule = GetppidLoadRule()
            try rule.add()
            defer { rule.delete() }

            let batch = 1000
            for _ in 0..<batch { _ = getppid() }
            var deadline = Date() + 5
            while Date() < deadline, Self.syscallLines(logPath, key: rule.key) < batch { Thread.sleep(forTimeInterval: 0.02) }
            #expect(Self.syscallLines(logPath, key: rule.key) == batch)

            guard Self.chattr("+i", logPath) else {
                print("SKIP log made unwritable: chattr +i does not work on \(logPath)'s file system")
                return
            }
            defer { _ = Self.chattr("-i", logPath) }
            // Few enough to stay in the daemon's buffer (256 KiB) while the disk refuses them.
            let meanwhile = 100
            for _ in 0..<meanwhile { _ = getppid() }
            Thread.sleep(forTimeInterval: 1)
            let whileImmutable = Self.syscallLines(logPath, key: rule.key)
            let reported = daemon.diagnostics.contains("Operation not permitted")
            #expect(Self.chattr("-i", logPath))
            for _ in 0..<batch { _ = getppid() }
            deadline = Date() + 5
            while Date() < deadline, Self.syscallLines(logPath, key: rule.key) < 2 * batch + meanwhile {
                Thread.sleep(forTimeInterval: 0.02)
            }
            rule.delete()
            #expect(daemon.terminate() == 0)

            let onDisk = Self.syscallLines(logPath, key: rule.key)
            let errorLines = daemon.diagnostics.split(separator: "\n").filter { $0.contains("Operation not permitted") }.count
            #expect(whileImmutable == batch, "nothing reaches an immutable file")
            #expect(reported, "the write error is reported: \(daemon.diagnostics.suffix(1500))")
            #expect(onDisk == 2 * batch + meanwhile, "the records of the unwritable time are written once it is writable again")
            #expect(errorLines >= 1 && errorLines <= 10, "reported, without a flood: \(errorLines) lines")
            #expect(daemon.diagnostics.contains("the audit log takes writes again"))
            #expect(daemon.receivedAllWritten, "received + daemon records == written")
            #expect(daemon.summaryFigure("dropped") == 0)
            #expect(try readLog(logPath).lines.allSatisfy(isWholeRecordLine))
            print("""
                log made unwritable (chattr +i) for 1 s: \(meanwhile) events meanwhile, \(whileImmutable) of \(batch) \
                earlier ones on disk then, \(onDisk) of \(2 * batch + meanwhile) on disk at the end, \(errorLines) \
                diagnostic lines about the write error
                """)
        }
    }
}
