import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// The log made unwritable, or its directory removed, under the running daemon, with each
    /// `disk_error_action` that leaves the machine alone (`single` and `halt` would change its
    /// runlevel). `chattr +i` makes every write to the open file fail with EPERM, even for root
    /// (permissions would not stop root, and a removed directory does not stop writes to a file that
    /// is already open: it takes a rotation to meet the missing directory).
    @Suite(.timeLimit(.minutes(3)))
    struct UnwritableLogTests {
        static func cannotRun() -> String? {
            Requirement.daemonBinary() ?? Requirement.executable("/usr/bin/chattr", package: "e2fsprogs")
        }

        static func chattr(_ flag: String, _ path: String) -> Bool {
            ((try? shell("/usr/bin/chattr", [flag, path]))?.status ?? 1) == 0
        }

        static func lines(of text: String, containing needle: String) -> Int {
            text.split(separator: "\n").filter { $0.contains(needle) }.count
        }

        /// A figure from `swift-auditd status` (which refreshes the daemon's state report first):
        /// the number before `label` in its losses row, 0 when the row does not name it.
        static func statusLoss(_ daemon: DaemonProcess, _ label: String) -> Int {
            guard let status = try? shell(DaemonProcess.executablePath, ["status", "--run-directory", daemon.runDirectory]),
                  let line = status.output.split(separator: "\n").first(where: { $0.contains(label) }),
                  let range = line.range(of: " \(label)") else { return 0 }
            return Int(line[..<range.lowerBound].split(whereSeparator: { $0 == " " || $0 == "," }).last ?? "") ?? 0
        }

        static let detected = "write: Audit daemon detected an error writing an event to disk (Operation not permitted)"

        /// One daemon with `disk_error_action = ACTION`: 1000 events reach the log, the log is made
        /// immutable, 100 events come, `whileUnwritable` runs, the log is made writable, `afterwards`
        /// runs (a resume, say), 1000 more events come, and the daemon is stopped.
        struct Run {
            var daemon: DaemonProcess
            var logPath: String
            var onDiskWhileUnwritable: Int
            var onDiskAtTheEnd: Int
            var unwritableFor: Duration
            var exitStatus: Int32?
            var diagnostics: String { daemon.diagnostics }
        }

        static func run(action: String, in directory: TemporaryDirectory,
                        whileUnwritable: (DaemonProcess) -> Void = { _ in },
                        afterwards: (DaemonProcess, AuditedThread) -> Void = { _, _ in }) throws -> Run {
            let (logPath, daemon, thread) = try DaemonProcess.registeredWithAuditedThread(in: directory, extra: "disk_error_action = \(action)\n")
            let rule = AuditRule()
            try rule.add()
            defer { rule.delete() }
            thread.callGetppid(1000)
            #expect(eventually { rule.syscallLines(in: logPath) == 1000 })

            try #require(chattr("+i", logPath), "chattr +i does not work on \(logPath)'s file system")
            let madeImmutable = ContinuousClock.now
            defer { _ = chattr("-i", logPath) }
            // Few enough to stay in the daemon's buffer (256 KiB) while the disk refuses them.
            thread.callGetppid(100)
            // SYSLOG alerts with the errno, EXEC names it, SUSPEND says only that it suspends (as auditd).
            #expect(eventually { daemon.diagnostics.contains("Operation not permitted") || daemon.diagnostics.contains("suspending logging") },
                    "the failed write was not reported: \(daemon.diagnostics.suffix(1500))")
            whileUnwritable(daemon)
            let onDiskWhileUnwritable = rule.syscallLines(in: logPath)
            #expect(chattr("-i", logPath))
            let unwritableFor = ContinuousClock.now - madeImmutable
            afterwards(daemon, thread)
            thread.callGetppid(1000)
            eventually(timeout: .seconds(5)) { rule.syscallLines(in: logPath) >= 2100 }
            rule.delete()
            let status = daemon.terminate()
            return Run(daemon: daemon, logPath: logPath, onDiskWhileUnwritable: onDiskWhileUnwritable,
                       onDiskAtTheEnd: rule.syscallLines(in: logPath), unwritableFor: unwritableFor, exitStatus: status)
        }

        @Test func realKernelDiskErrorActionSyslogReportsTheErrorAndLosesNothingOnceWritable() async throws {
            try await RealKernel.withExclusiveUse(requiring: Self.cannotRun) {
                let directory = try TemporaryDirectory("swift-auditd-disk-error")
                defer { directory.remove() }
                let run = try Self.run(action: "SYSLOG", in: directory)
                let reports = Self.lines(of: run.diagnostics, containing: Self.detected)
                let dropped = run.daemon.summaryFigure("dropped")
                let notLogged = run.daemon.summaryFigure("not_logged")
                #expect(run.exitStatus == 0)
                #expect(run.onDiskWhileUnwritable == 1000, "nothing reaches an immutable file")
                #expect(reports >= 1 && reports <= 5, "auditd's alert, at most five times: \(reports)")
                #expect(run.onDiskAtTheEnd == 2100, "what waited in memory is written once the log takes writes")
                #expect(run.daemon.receivedAllWritten)
                #expect(dropped == 0)
                #expect(notLogged == 0)
                #expect(try readLog(run.logPath).lines.allSatisfy(isWholeRecordLine))
                print("""
                    disk_error_action = SYSLOG, log immutable for \(run.unwritableFor): \(reports) alerts; \
                    \(run.onDiskWhileUnwritable) of 1000 earlier events on disk meanwhile, \(run.onDiskAtTheEnd) of 2100 \
                    at the end, dropped \(dropped.map(String.init) ?? "not reported"), not logged \(notLogged.map(String.init) ?? "not reported")
                    """)
            }
        }

        @Test func realKernelDiskErrorActionSuspendStopsLoggingUntilResumed() async throws {
            try await RealKernel.withExclusiveUse(requiring: Self.cannotRun) {
                let directory = try TemporaryDirectory("swift-auditd-disk-error")
                defer { directory.remove() }
                var resumedBeforeUSR2 = true
                var notLoggedWhileSuspended = 0
                let run = try Self.run(action: "SUSPEND", in: directory, whileUnwritable: { daemon in
                    #expect(eventually { daemon.diagnostics.contains("Audit daemon is suspending logging due to previously mentioned write error") })
                }, afterwards: { daemon, thread in
                    // Suspended: the log takes writes again, but nothing is written until SIGUSR2. The
                    // daemon has received the 100 events once it counts their 200 records as not logged.
                    thread.callGetppid(100)
                    eventually { Self.statusLoss(daemon, "not logged while suspended") >= 200 }
                    notLoggedWhileSuspended = Self.statusLoss(daemon, "not logged while suspended")
                    resumedBeforeUSR2 = daemon.diagnostics.contains("attempting to resume")
                    daemon.signal(SIGUSR2)
                    #expect(eventually { daemon.diagnostics.contains("Audit daemon is attempting to resume logging.") })
                })
                let notLogged = run.daemon.summaryFigure("not_logged") ?? -1
                #expect(run.exitStatus == 0)
                #expect(!resumedBeforeUSR2)
                #expect(run.onDiskWhileUnwritable == 1000)
                // 1000 before, 1000 after the resume, and of the 100 made while the log was
                // immutable those in the write that failed; the rest, and the 100 made while
                // suspended, are counted as not logged (SYSCALL and PROCTITLE each): 2200 events
                // made, every one on disk or counted.
                #expect(run.onDiskAtTheEnd >= 2000 && run.onDiskAtTheEnd + notLogged / 2 == 2200,
                        "\(run.onDiskAtTheEnd) on disk, \(notLogged) records not logged; diagnostics: \(run.diagnostics.suffix(1500))")
                #expect(notLoggedWhileSuspended >= 200, "records received while suspended are counted: \(notLoggedWhileSuspended)")
                #expect(notLogged >= notLoggedWhileSuspended)
                #expect(run.diagnostics.contains("received records were not written: logging was suspended"))
                #expect(try readLog(run.logPath).lines.allSatisfy(isWholeRecordLine))
                print("""
                    disk_error_action = SUSPEND: logging suspended at the first failed write; while suspended \
                    \(notLoggedWhileSuspended) records not logged (status), \(notLogged) in the stop summary; after \
                    SIGUSR2 \(run.onDiskAtTheEnd) of 2200 events on disk, the rest counted
                    """)
            }
        }

        @Test func realKernelDiskErrorActionExecRunsTheProgramAndSuspends() async throws {
            try await RealKernel.withExclusiveUse(requiring: Self.cannotRun) {
                let directory = try TemporaryDirectory("swift-auditd-disk-error")
                defer { directory.remove() }
                let marker = directory.appending("exec-ran")
                let program = try directory.write("#!/bin/sh\necho \"ran as $$ with: $*\" >> \(marker)\n", to: "on-disk-error.sh")
                chmod(program, 0o750)
                let run = try Self.run(action: "EXEC \(program)", in: directory, whileUnwritable: { daemon in
                    #expect(eventually { FileManager.default.fileExists(atPath: marker) })
                }, afterwards: { daemon, _ in
                    daemon.signal(SIGUSR2)
                    #expect(eventually { daemon.diagnostics.contains("Audit daemon is attempting to resume logging.") })
                })
                let ran = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
                let runs = Self.lines(of: ran, containing: "ran as")
                #expect(run.exitStatus == 0)
                #expect(runs == 1, "the program runs once: \(ran)")
                #expect(run.diagnostics.contains("running \(program) for a disk error (write: Operation not permitted)"))
                // EXEC suspends logging too: the events made while the log was immutable are on
                // disk (those in the write that failed) or counted as not logged.
                let notLogged = run.daemon.summaryFigure("not_logged") ?? -1
                #expect(run.onDiskAtTheEnd >= 2000 && run.onDiskAtTheEnd + notLogged / 2 == 2100,
                        "\(run.onDiskAtTheEnd) on disk, \(notLogged) records not logged; diagnostics: \(run.diagnostics.suffix(1500))")
                print("disk_error_action = EXEC: \(program) ran \(runs) time(s); after SIGUSR2 \(run.onDiskAtTheEnd) of 2100 events on disk, \(notLogged) records counted as not logged")
            }
        }

        /// Removing the directory does not stop writes to the open (now unlinked) file, and no write
        /// fails. The writer notices the unlinked file before its next write and opens a new one in
        /// its place, directory included, so nothing goes with the removed file (auditd keeps writing
        /// into it until a reopen). The figure: events made after the removal that are in the new file.
        @Test func realKernelALogDirectoryRemovedWhileRunningIsMadeAgainAndLosesNothing() async throws {
            try await RealKernel.withExclusiveUse(requiring: Self.cannotRun) {
                let directory = try TemporaryDirectory("swift-auditd-disk-error")
                defer { directory.remove() }
                let (logPath, daemon, thread) = try DaemonProcess.registeredWithAuditedThread(in: directory, extra: "disk_error_action = SYSLOG\nnum_logs = 3\n")
                let rule = AuditRule()
                try rule.add()
                defer { rule.delete() }
                thread.callGetppid(1000)
                #expect(eventually { rule.syscallLines(in: logPath) == 1000 })

                try FileManager.default.removeItem(atPath: directory.appending("log"))
                thread.callGetppid(100)
                eventually(timeout: .seconds(5)) { rule.syscallLines(in: logPath) >= 100 }
                rule.delete()
                let status = daemon.terminate()
                let diagnostics = daemon.diagnostics
                let madeAgain = FileManager.default.fileExists(atPath: logPath)
                let onDisk = rule.syscallLines(in: logPath)
                print("log directory removed while running: made again: \(madeAgain); \(onDisk) of the 100 later events in the new file")
                #expect(status == 0)
                #expect(onDisk == 100, "diagnostics: \(diagnostics.suffix(1500))")
                #expect(diagnostics.contains("was removed while open; writing to a new file in its place"))
                #expect(daemon.receivedAllWritten)
            }
        }
    }
}
