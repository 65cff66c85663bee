import ArgumentParser
import AuditDaemon
import AuditNetlink
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground until SIGTERM or SIGINT.",
        discussion: """
            The daemon writes its PID file, opens the log named in auditd.conf, writes DAEMON_START, \
            switches auditing on (-s), registers with the kernel, and writes every record the kernel \
            sends until it is stopped. Under systemd (Type=notify) it reports READY=1 only once the \
            kernel has accepted the registration.

            Signals, as auditd: SIGTERM (or SIGINT) stops without losing a record and writes \
            DAEMON_END; SIGHUP reloads auditd.conf (a bad file keeps the running configuration) and \
            writes DAEMON_CONFIG; SIGUSR1 rotates the log, DAEMON_ROTATE first in the new file; \
            SIGUSR2 resumes logging after a suspension and writes DAEMON_RESUME; SIGCONT writes the \
            state report that 'swift-auditd status' reads. Each record names who sent the signal, as \
            the kernel reports it. Every other signal is ignored.

            swift-auditd.conf, beside auditd.conf (-c), holds swift-auditd's own settings, read at \
            start: metrics_textfile = PATH.prom makes the daemon rewrite that file for \
            node_exporter's textfile collector every metrics_interval seconds (default 5), \
            atomically, between batches, and remove it when it stops; an unknown key or a bad value \
            exits 6 naming the file and line.

            Exit status: 0 after a clean stop; 1 when the daemon cannot start (the log cannot be \
            opened, the kernel refuses, another daemon is registered), after writing DAEMON_ABORT \
            when the kernel refused; 2 for a bad command line; 4 without the privilege an audit \
            daemon needs; 6 for a bad auditd.conf or swift-auditd.conf.
            """
    )

    @Option(name: .customShort("c"), help: ArgumentHelp("Directory holding auditd.conf.", valueName: "dir"))
    var configurationDirectory: String = "/etc/audit"

    @Option(name: .customShort("s"), help: ArgumentHelp(
        "What to do with the kernel's enabled flag at start (auditd's -s).", valueName: "state"))
    var startupState: StartupState = .enable

    @Flag(help: "Join the kernel's read-only multicast group instead of registering, to run beside another audit daemon.")
    var multicast = false

    @Option(help: ArgumentHelp("Directory for the PID file (swift-auditd.pid) and the state report (swift-auditd.state).",
                               valueName: "dir"))
    var runDirectory: String = RunDirectory.defaultPath

    /// Hidden: only fault tests use it, to make the socket overflow (ENOBUFS) on purpose.
    @Option(name: .customLong("test-receive-buffer"), help: ArgumentHelp(
        "For tests only: the netlink socket's receive buffer in bytes (default 32 MiB).", valueName: "bytes",
        visibility: .hidden))
    var testReceiveBuffer: Int32?

    @Option(name: .customLong("kernel-fd"), help: ArgumentHelp(
        "For tests only: talk to the fake kernel on this inherited SOCK_SEQPACKET descriptor instead of netlink.",
        valueName: "fd", visibility: .hidden))
    var kernelDescriptor: Int32?

    enum StartupState: String, ExpressibleByArgument, CaseIterable {
        case enable, disable, nochange
    }

    func validate() throws {
        if multicast, kernelDescriptor != nil {
            throw ValidationError("--multicast and --kernel-fd cannot be used together")
        }
    }

    func run() throws {
        SignalWatcher.blockSignals()
        let logger = Diagnostics.logger()
        var options = DaemonOptions()
        options.configurationDirectory = configurationDirectory
        options.startupState = DaemonOptions.StartupState(rawValue: startupState.rawValue)!
        options.multicast = multicast
        options.runDirectory = RunDirectory(runDirectory)
        if let testReceiveBuffer { options.receiveBufferSize = testReceiveBuffer }
        do {
            // As auditd (exit 4 before anything else, the configuration included): without the
            // capability the kernel refuses every request, and a user without it usually cannot
            // read /etc/audit either, which would otherwise be reported as a bad auditd.conf.
            if kernelDescriptor == nil {
                let needed = multicast ? ProcessCapabilities.auditRead : ProcessCapabilities.auditControl
                // A network-only server (local_events = no) never talks to the kernel.
                let networkOnly = { (try? AuditdConfiguration.read(directory: configurationDirectory))?.configuration.localEvents == false }
                guard ProcessCapabilities.has(needed) || networkOnly() else {
                    throw AuditDaemonError(.insufficientPrivilege, """
                        an audit daemon needs root with \(multicast ? "CAP_AUDIT_READ" : "CAP_AUDIT_CONTROL") \
                        in the initial user and pid namespaces
                        """)
                }
            }
            let loaded = try AuditdConfiguration.read(directory: configurationDirectory)
            for note in loaded.notes { logger.notice("\(note)") }
            let configuration = loaded.configuration
            options.settings = try SwiftAuditdSettings.read(directory: configurationDirectory)
            ProcessTuning.protectFromOOMKiller(logger: logger)
            ProcessTuning.boostPriority(by: configuration.priorityBoost, logger: logger)
            let socket: AuditSocket
            // local_events = no: the far end of a pair, held and never written, stands where the
            // kernel would be, so the record loop runs as ever and hears only from the network.
            var silentKernel: AuditSocket?
            defer { withExtendedLifetime(silentKernel) {} }
            do {
                if !configuration.localEvents {
                    let pair = try AuditSocket.pair()
                    socket = pair.daemon
                    silentKernel = pair.kernel
                } else if let kernelDescriptor {
                    socket = try AuditSocket.inherited(descriptor: kernelDescriptor)
                } else {
                    socket = multicast ? try AuditSocket.multicast() : try AuditSocket.kernel()
                }
            } catch {
                let privilege = error.errno == EPERM || error.errno == EACCES
                throw AuditDaemonError(privilege ? .insufficientPrivilege : .startFailure,
                                       "cannot open the kernel's audit socket", cause: error)
            }
            let control = try DaemonControl()
            SignalWatcher.start(control: control, logger: logger)
            let notifySocket = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
            let daemon = AuditDaemon(configuration: configuration, options: options, socket: socket,
                                     control: control, logger: logger,
                                     notifier: SystemdNotifier(address: notifySocket, logger: logger))
            _ = try daemon.run()
        } catch let error as AuditDaemonError {
            logger.critical("\(error)")
            throw ExitCode(error.code.exitStatus)
        }
    }
}
