import ArgumentParser
import AuditDaemon
import AuditNetlink
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
            """,
        subcommands: [Run.self],
        defaultSubcommand: Run.self
    )
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground until SIGTERM or SIGINT.",
        discussion: """
            Exit status: 0 after a clean stop; 1 when the daemon cannot start (the log cannot be opened, \
            the kernel refuses, another daemon is registered); 2 for a bad command line; 4 without the \
            privilege an audit daemon needs; 6 for a bad auditd.conf.
            """
    )

    @Option(name: .customShort("c"), help: ArgumentHelp("Directory holding auditd.conf.", valueName: "dir"))
    var configurationDirectory: String = "/etc/audit"

    @Option(name: .customShort("s"), help: ArgumentHelp(
        "What to do with the kernel's enabled flag at start: enable, disable or nochange.", valueName: "state"))
    var startupState: StartupState = .enable

    @Flag(help: "Join the kernel's read-only multicast group instead of registering, to run beside another audit daemon.")
    var multicast = false

    /// Hidden: only fault tests use it, to make the socket overflow (ENOBUFS) on purpose.
    @Option(name: .customLong("test-receive-buffer"), help: ArgumentHelp(
        "For tests only: the netlink socket's receive buffer in bytes (default 32 MiB).", valueName: "bytes",
        visibility: .hidden))
    var testReceiveBuffer: Int32?

    enum StartupState: String, ExpressibleByArgument, CaseIterable {
        case enable, disable, nochange
    }

    func run() throws {
        SignalWatcher.blockSignals()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "swift-auditd")
        var options = DaemonOptions()
        options.configurationDirectory = configurationDirectory
        options.startupState = DaemonOptions.StartupState(rawValue: startupState.rawValue)!
        options.multicast = multicast
        if let testReceiveBuffer { options.receiveBufferSize = testReceiveBuffer }
        do {
            let (configuration, found) = try AuditdConfiguration.load(directory: configurationDirectory)
            if !found {
                logger.notice("no auditd.conf in \(configurationDirectory); using the built-in defaults")
            }
            let socket: AuditSocket
            do {
                socket = multicast ? try AuditSocket.multicast() : try AuditSocket.kernel()
            } catch {
                let privilege = error.errno == EPERM || error.errno == EACCES
                throw AuditDaemonError(privilege ? .insufficientPrivilege : .startFailure,
                                       "cannot open the kernel's audit socket", cause: error)
            }
            let control = try DaemonControl()
            SignalWatcher.start(control: control, logger: logger)
            let daemon = AuditDaemon(configuration: configuration, options: options, socket: socket,
                                     control: control, logger: logger)
            _ = try daemon.run()
        } catch let error as AuditDaemonError {
            logger.critical("\(error)")
            throw ExitCode(error.code.exitStatus)
        }
    }
}
