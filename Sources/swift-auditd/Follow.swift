import ArgumentParser
import AuditControl
import AuditDaemon
import AuditEvents
import AuditFollow
import AuditSystem
#if canImport(Glibc)
import Glibc
#endif

struct Follow: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the log as events: the rotated files, then the live one as it grows.",
        discussion: """
            Reads FILE.N ... FILE.1 and FILE in order, groups their records into events by their \
            audit(SEC.MS:SERIAL) stamp (an event ends on its last record, as auditd's tools decide, or \
            end_of_event_timeout seconds after its last record), and prints the events that match \
            every filter given. Without --no-follow it then follows FILE as the daemon writes it, \
            across rotations, until interrupted. Without FILE or -c it reads the log of the \
            swift-auditd that is running (named in its state report in --run-directory), else \
            log_file from auditd.conf.

            --format lines prints each event's lines as logged; interpreted prints what \
            'ausearch -i' prints for them, byte for byte; json prints one JSON object per event \
            (the schema is in the README). Files this user may not read are named on standard \
            error and skipped.
            """)

    @Argument(help: ArgumentHelp("The log to read (default: the running swift-auditd's, else log_file from auditd.conf).",
                                 valueName: "file"))
    var file: String?

    @Flag(name: .customLong("no-follow"), help: "Read the files to their end and exit.")
    var noFollow = false

    @Option(help: ArgumentHelp(
        "Only events from this time on: now, recent, today, yesterday, this-week, a Unix time, or YYYY-MM-DD[ HH:MM[:SS]] (local).",
        valueName: "time"))
    var since: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("Only events with this key (repeat for any of several).", valueName: "key"))
    var keys: [String] = []

    @Option(name: .customLong("type"), help: ArgumentHelp("Only events with a record of this type, e.g. SYSCALL (repeat for any of several).", valueName: "type"))
    var types: [String] = []

    @Option(help: ArgumentHelp("lines, interpreted or json.", valueName: "format"))
    var format: String = "lines"

    @Option(name: .customShort("c"), help: ArgumentHelp("Directory holding auditd.conf (default /etc/audit).", valueName: "dir"))
    var configurationDirectory: String?

    @Option(help: ArgumentHelp("Directory where a running swift-auditd keeps its PID file and state report.", valueName: "dir"))
    var runDirectory: String = RunDirectory.defaultPath

    func run() throws {
        try reporting {
            guard let format = EventFormat(rawValue: format) else {
                throw ControlFailure("--format must be lines, interpreted or json, not '\(format)'", status: 2)
            }
            var filter = EventFilter(keys: keys.map { Array($0.utf8) })
            for name in types {
                guard let number = MessageTypeLookup.number(named: name) else {
                    throw ControlFailure("--type \(name): not a message type libaudit knows (try SYSCALL, PATH, USER_LOGIN)", status: 2)
                }
                filter.types.append(number)
            }
            if let since {
                guard let second = SinceTime.parse(since) else {
                    throw ControlFailure("--since \(since): not a time (now, recent, today, yesterday, this-week, a Unix time, or YYYY-MM-DD HH:MM:SS)", status: 2)
                }
                filter.since = second
            }
            var path = file
            if path == nil, configurationDirectory == nil, let running = RunningDaemon.find(in: RunDirectory(runDirectory)) {
                // `make run`'s daemon, or one started with another -c: its log is the one being written.
                StandardError.write("swift-auditd follow: reading \(running.logFile), the log of the running swift-auditd (pid \(running.pid))\n")
                path = running.logFile
            }
            let configurationDirectory = configurationDirectory ?? "/etc/audit"
            var timeout = 2
            do {
                let loaded = try AuditdConfiguration.read(directory: configurationDirectory)
                timeout = loaded.configuration.endOfEventTimeout
                if path == nil { path = loaded.configuration.logFile }
            } catch {
                if path == nil {
                    StandardError.write("swift-auditd follow: cannot read \(configurationDirectory)/auditd.conf (\(error)): reading \(AuditdConfiguration.defaultLogFile)\n")
                }
            }
            // A reader ends on Ctrl-C, kill or a closed pipe, whatever its parent blocked or ignored.
            var signals = sigset_t()
            sigemptyset(&signals)
            for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] {
                signal(number, SIG_DFL)
                sigaddset(&signals, number)
            }
            sigprocmask(SIG_UNBLOCK, &signals, nil)
            let session = FollowSession(
                path: path ?? AuditdConfiguration.defaultLogFile, follow: !noFollow, format: format, filter: filter,
                timeoutSeconds: timeout, note: { StandardError.write("swift-auditd follow: \($0)\n") })
            let outcome = session.run()
            if outcome.counters.evictedEvents > 0 || outcome.counters.oversizedEvents > 0 {
                StandardError.write("swift-auditd follow: \(outcome.counters.evictedEvents) events ended early because too many were open at once, \(outcome.counters.oversizedEvents) because they grew too large\n")
            }
            if let error = outcome.outputError { throw ControlFailure("cannot write to standard output: \(error)", status: 1) }
        }
    }
}

/// The swift-auditd whose PID file and state report are in a run directory, if it is running.
enum RunningDaemon {
    static func find(in directory: RunDirectory) -> (pid: Int32, logFile: String)? {
        guard let pid = directory.pidInPIDFile(), let state = directory.readState(), state.pid == pid,
              !state.logFile.isEmpty,
              // A PID file a killed daemon left may name another process by now.
              ProcFile.firstLine("/proc/\(pid)/comm") == "swift-auditd" else { return nil }
        return (pid, state.logFile)
    }
}
