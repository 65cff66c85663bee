import ArgumentParser
import AuditControl
import AuditDaemon
import AuditEvents
import AuditFollow
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
            across rotations, until interrupted. FILE is log_file from auditd.conf unless given.

            --format lines prints each event's lines as logged; interpreted prints what \
            'ausearch -i' prints for them, byte for byte; json prints one JSON object per event \
            (the schema is in the README). Files this user may not read are named on standard \
            error and skipped.
            """)

    @Argument(help: ArgumentHelp("The log to read (default: log_file from auditd.conf).", valueName: "file"))
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

    @Option(name: .customShort("c"), help: ArgumentHelp("Directory holding auditd.conf.", valueName: "dir"))
    var configurationDirectory: String = "/etc/audit"

    func run() throws {
        try reporting {
            guard let format = EventFormat(rawValue: format) else {
                throw ControlFailure("--format must be lines, interpreted or json, not '\(format)'", status: 2)
            }
            var filter = EventFilter(keys: keys.map { Array($0.utf8) })
            for name in types {
                guard let number = MessageTypeNames.number(named: name) else {
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

/// Type names for the command line.
enum MessageTypeNames {
    static func number(named name: String) -> Int32? { MessageTypeLookup.number(named: name) }
}
