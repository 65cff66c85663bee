import ArgumentParser
import AuditDaemon
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct SwiftAuditd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-auditd",
        abstract: "A Linux audit daemon: receives the kernel's audit records and writes them as auditd does.",
        discussion: """
            swift-auditd registers with the kernel as its audit daemon, collects the records the kernel \
            held before it started, and appends every record to the log file named in auditd.conf, in \
            auditd's own line format, so ausearch, aureport and tail -F keep working.

            Without a subcommand it runs the daemon (as 'swift-auditd run'). The other subcommands \
            talk to the daemon the kernel has registered, as 'auditctl --signal' does, and need root. \
            'auditctl --signal TERM|HUP|USR1|USR2|CONT' works on swift-auditd too.
            """,
        version: SwiftAuditdVersion.current,
        subcommands: [Run.self, Status.self, Rotate.self, Reload.self, Resume.self, Stop.self, Follow.self],
        defaultSubcommand: Run.self
    )

    /// As auditd: a bad command line exits 2 (ArgumentParser's own default is 64).
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            let message = fullMessage(for: error)
            StandardError.write(message + (message.hasSuffix("\n") ? "" : "\n"))
            Glibc.exit(2)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// Diagnostics to standard error (the journal, under systemd), once per process.
enum Diagnostics {
    static func logger(level: Logger.Level = .info) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "swift-auditd")
    }
}

/// Writes to standard error without buffering.
enum StandardError {
    static func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
