import AuditTestKit
import Foundation
import Testing

/// The log made unwritable, or its directory removed, under the running daemon, with each
/// `disk_error_action` that leaves the machine alone (`single` and `halt` would change its
/// runlevel). `chattr +i` makes every write to the open file fail with EPERM, even for root
/// (permissions would not stop root, and a removed directory does not stop writes to a file that
/// is already open: it takes a rotation to meet the missing directory).
@Suite(.serialized, .timeLimit(.minutes(3)))
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

    /// SYSCALL lines of `key` in the log, by grep (the file may be gone or immutable meanwhile).
    static func syscallLines(_ path: String, key: String) -> Int {
        let counted = try? shell("/bin/grep", ["-c", "^type=SYSCALL .* key=\"\(key)\"$", path])
        return Int(counted?.output.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }

    static func waitFor(_ timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date() + timeout
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    static func lines(of text: String, containing needle: String) -> Int {
        text.split(separator: "\n").filter { $0.contains(needle) }.count
    }

    static let detected = "write: Audit daemon detected an error writing an event to disk (Operation not permitted)"

    /// One daemon with `disk_error_action = ACTION`: 1000 events reach the log, the log is made
    /// immutable, 100 events come, `whileUnwritable` runs, the log is made writable, `afterwards`
    /// runs (a resume, say), 1000 more events come, and the daemon is stopped.
    struct Run {
        var daemon: DaemonUnderTest
        var logPath: String
        var key: String
        var onDiskWhileUnwritable: Int
        var onDiskAtTheEnd: Int
        var exitStatus: Int32
        var diagnostics: String { daemon.diagnostics }
    }

    static func run(action: String, in directory: TemporaryDirectory,
                    whileUnwritable: (DaemonUnderTest) -> Void = { _ in },
                    afterwards: (DaemonUnderTest) -> Void = { _ in }) throws -> Run {
        let logPath = try DaemonUnderTest.configure(directory, extra: "disk_error_action = \(action)\n")
        let daemon = try DaemonUnderTest(directory: directory)
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        let rule = GetppidLoadRule()
        try rule.add()
        defer { rule.delete() }
        for _ in 0..<1000 { _ = getppid() }
        #expect(waitFor { syscallLines(logPath, key: rule.key) == 1000 })

        try #require(chattr("+i", logPath), "chattr +i does not work on \(logPath)'s file system")
        defer { _ = chattr("-i", logPath) }
        // Few enough to stay in the daemon's buffer (256 KiB) while the disk refuses them.
        for _ in 0..<100 { _ = getppid() }
        // SYSLOG alerts with the errno, EXEC names it, SUSPEND says only that it suspends (as auditd).
        #expect(waitFor { daemon.diagnostics.contains("Operation not permitted") || daemon.diagnostics.contains("suspending logging") })
        Thread.sleep(forTimeInterval: 0.5)
        whileUnwritable(daemon)
        let whileUnwritable = syscallLines(logPath, key: rule.key)
        #expect(chattr("-i", logPath))
        afterwards(daemon)
        for _ in 0..<1000 { _ = getppid() }
        _ = waitFor(3) { syscallLines(logPath, key: rule.key) >= 2100 }
        rule.delete()
        let status = daemon.terminate()
        return Run(daemon: daemon, logPath: logPath, key: rule.key, onDiskWhileUnwritable: whileUnwritable,
                   onDiskAtTheEnd: syscallLines(logPath, key: rule.key), exitStatus: status)
    }

    @Test func realKernelDiskErrorActionSyslogReportsTheErrorAndLosesNothingOnceWritable() async throws {
        try await RealKernel.withExclusiveUse("disk_error_action = syslog", alsoSkipIf: cannotRun) {
            let directory = try TemporaryDirectory("swift-auditd-disk-error")
            defer { directory.remove() }
            let run = try Self.run(action: "SYSLOG", in: directory)
            let reports = Self.lines(of: run.diagnostics, containing: Self.detected)
            #expect(run.exitStatus == 0)
            #expect(run.onDiskWhileUnwritable == 1000, "nothing reaches an immutable file")
            #expect(reports >= 1 && reports <= 5, "auditd's alert, at most five times: \(reports)")
            #expect(run.onDiskAtTheEnd == 2100, "what waited in memory is written once the log takes writes")
            #expect(run.daemon.receivedAllWritten)
            #expect(run.daemon.summaryFigure("dropped") == 0)
            #expect(run.daemon.summaryFigure("not_logged") == 0)
            #expect(try readLog(run.logPath).lines.allSatisfy(isWholeRecordLine))
            print("""
                disk_error_action = SYSLOG, log immutable for 0.5 s: \(reports) alerts; \(run.onDiskWhileUnwritable) of \
                1000 earlier events on disk meanwhile, \(run.onDiskAtTheEnd) of 2100 at the end, dropped 0
                """)
        }
    }

    @Test func realKernelDiskErrorActionSuspendStopsLoggingUntilResumed() async throws {
        try await RealKernel.withExclusiveUse("disk_error_action = suspend", alsoSkipIf: cannotRun) {
            let directory = try TemporaryDirectory("swift-auditd-disk-error")
            defer { directory.remove() }
            var suspendedAtTheEnd = 0
            let run = try Self.run(action: "SUSPEND", in: directory, whileUnwritable: { daemon in
                #expect(Self.waitFor { daemon.diagnostics.contains("Audit daemon is suspending logging due to previously mentioned write error") })
            }, afterwards: { daemon in
                // Suspended: the log takes writes again, but nothing is written until SIGUSR2.
                for _ in 0..<100 { _ = getppid() }
                Thread.sleep(forTimeInterval: 0.3)
                suspendedAtTheEnd = daemon.diagnostics.contains("attempting to resume") ? -1 : 0
                kill(daemon.pid, SIGUSR2)
                #expect(Self.waitFor { daemon.diagnostics.contains("Audit daemon is attempting to resume logging.") })
            })
            let notLogged = run.daemon.summaryFigure("not_logged") ?? -1
            #expect(run.exitStatus == 0)
            #expect(suspendedAtTheEnd == 0)
            #expect(run.onDiskWhileUnwritable == 1000)
            // 1000 before, the 100 buffered when the write failed, 1000 after the resume; the
            // 100 made while suspended are counted as not logged (SYSCALL and PROCTITLE each).
            #expect(run.onDiskAtTheEnd == 2100, "diagnostics: \(run.diagnostics.suffix(1500))")
            #expect(notLogged >= 200, "records received while suspended are counted: \(notLogged)")
            #expect(run.diagnostics.contains("received records were not written: logging was suspended"))
            #expect(try readLog(run.logPath).lines.allSatisfy(isWholeRecordLine))
            print("""
                disk_error_action = SUSPEND: logging suspended at the first failed write; 100 events while \
                suspended not logged (not_logged=\(notLogged) records); after SIGUSR2 \(run.onDiskAtTheEnd) of 2100 \
                other events on disk
                """)
        }
    }

    @Test func realKernelDiskErrorActionExecRunsTheProgramAndSuspends() async throws {
        try await RealKernel.withExclusiveUse("disk_error_action = exec", alsoSkipIf: cannotRun) {
            let directory = try TemporaryDirectory("swift-auditd-disk-error")
            defer { directory.remove() }
            let marker = directory.appending("exec-ran")
            let program = try directory.write("#!/bin/sh\necho \"ran as $$ with: $*\" >> \(marker)\n", to: "on-disk-error.sh")
            chmod(program, 0o750)
            let run = try Self.run(action: "EXEC \(program)", in: directory, whileUnwritable: { daemon in
                #expect(Self.waitFor { FileManager.default.fileExists(atPath: marker) })
            }, afterwards: { daemon in
                kill(daemon.pid, SIGUSR2)
                #expect(Self.waitFor { daemon.diagnostics.contains("Audit daemon is attempting to resume logging.") })
            })
            let ran = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
            #expect(run.exitStatus == 0)
            #expect(Self.lines(of: ran, containing: "ran as") == 1, "the program runs once: \(ran)")
            #expect(run.diagnostics.contains("running \(program) for a disk error (write: Operation not permitted)"))
            #expect(run.onDiskAtTheEnd == 2100, "diagnostics: \(run.diagnostics.suffix(1500))")
            print("disk_error_action = EXEC: \(program) ran once; after SIGUSR2 \(run.onDiskAtTheEnd) of 2100 events on disk")
        }
    }

    /// Removing the directory does not stop writes to the open (now unlinked) file, and no write
    /// fails. The writer notices the unlinked file before its next write and opens a new one in
    /// its place, directory included, so nothing goes with the removed file (auditd keeps writing
    /// into it until a reopen). The figure: events made after the removal that are in the new file.
    @Test func realKernelALogDirectoryRemovedWhileRunningIsMadeAgainAndLosesNothing() async throws {
        try await RealKernel.withExclusiveUse("log directory removed", alsoSkipIf: cannotRun) {
            let directory = try TemporaryDirectory("swift-auditd-disk-error")
            defer { directory.remove() }
            let logPath = try DaemonUnderTest.configure(directory, extra: "disk_error_action = SYSLOG\nnum_logs = 3\n")
            let daemon = try DaemonUnderTest(directory: directory)
            try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
            let rule = GetppidLoadRule()
            try rule.add()
            defer { rule.delete() }
            for _ in 0..<1000 { _ = getppid() }
            #expect(Self.waitFor { Self.syscallLines(logPath, key: rule.key) == 1000 })

            try FileManager.default.removeItem(atPath: directory.appending("log"))
            for _ in 0..<100 { _ = getppid() }
            _ = Self.waitFor(3) { Self.syscallLines(logPath, key: rule.key) >= 100 }
            rule.delete()
            let status = daemon.terminate()
            let diagnostics = daemon.diagnostics
            let onDisk = Self.syscallLines(logPath, key: rule.key)
            print("log directory removed while running: made again; \(onDisk) of the 100 later events in the new file")
            #expect(status == 0)
            #expect(onDisk == 100, "diagnostics: \(diagnostics.suffix(1500))")
            #expect(diagnostics.contains("was removed while open; writing to a new file in its place"))
            #expect(daemon.receivedAllWritten)
        }
    }
}
