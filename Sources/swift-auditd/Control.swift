import ArgumentParser
import AuditControl
import AuditDaemon
#if canImport(Glibc)
import Glibc
#endif

/// Options every command that talks to the kernel shares.
struct KernelOptions: ParsableArguments {
    @Option(name: .customLong("kernel-fd"), help: ArgumentHelp(
        "For tests only: ask the fake kernel on this inherited SOCK_SEQPACKET descriptor instead of netlink.",
        valueName: "fd", visibility: .hidden))
    var kernelDescriptor: Int32?

    func control() throws(ControlFailure) -> ControlClient { try ControlClient(kernelDescriptor: kernelDescriptor) }
}

extension ParsableCommand {
    /// Runs `body`; a `ControlFailure` is printed and becomes the exit status.
    func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as ControlFailure {
            StandardError.write("swift-auditd: \(failure.description)\n")
            throw ExitCode(failure.status)
        }
    }
}

/// The shared shape of `rotate`, `reload`, `resume` and `stop`: find the registered daemon
/// through the kernel and send it one signal, as `auditctl --signal` does.
protocol SignalCommand: ParsableCommand {
    static var signal: Int32 { get }
    static var signalName: String { get }
    var kernel: KernelOptions { get }
}

extension SignalCommand {
    @discardableResult
    func signalRegisteredDaemon() throws -> RegisteredDaemon {
        let (daemon, said) = try kernel.control().signal(Self.signal, named: Self.signalName)
        print(said)
        return daemon
    }

    func run() throws {
        try reporting { try signalRegisteredDaemon() }
    }
}

struct Rotate: SignalCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rotate the log now (SIGUSR1, as 'auditctl --signal USR1').",
        discussion: """
            The daemon renames audit.log to audit.log.1 (and so on, up to num_logs) and starts a new \
            audit.log whose first line is the DAEMON_ROTATE record naming who asked.
            """)
    static let signal = SIGUSR1
    static let signalName = "SIGUSR1"
    @OptionGroup var kernel: KernelOptions
}

struct Reload: SignalCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload auditd.conf (SIGHUP, as 'auditctl --signal HUP').",
        discussion: """
            A file that cannot be read or parsed leaves the running configuration in force; either \
            way the daemon writes a DAEMON_CONFIG record (res=success or res=failed) naming who asked.
            """)
    static let signal = SIGHUP
    static let signalName = "SIGHUP"
    @OptionGroup var kernel: KernelOptions
}

struct Resume: SignalCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume logging after a suspension (SIGUSR2, as 'auditctl --signal USR2').",
        discussion: "The daemon reopens the log, clears its disk-space states, and writes DAEMON_RESUME.")
    static let signal = SIGUSR2
    static let signalName = "SIGUSR2"
    @OptionGroup var kernel: KernelOptions
}

struct Stop: SignalCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop the daemon (SIGTERM, as 'auditctl --signal TERM') and wait until it has exited.",
        discussion: """
            The daemon writes every record the kernel sent it, unregisters, writes DAEMON_END naming \
            who asked, syncs and exits. This command returns once the process is gone, so a new daemon \
            started next cannot step on the old one. Exit status 1 if it is still running after --timeout.
            """)
    static let signal = SIGTERM
    static let signalName = "SIGTERM"
    @OptionGroup var kernel: KernelOptions

    @Option(help: ArgumentHelp("Seconds to wait for the daemon to exit; 0 waits for ever.", valueName: "seconds"))
    var timeout: Int32 = 60

    func run() throws {
        try reporting {
            let daemon = try signalRegisteredDaemon()
            guard daemon.waitForExit(timeoutMilliseconds: timeout == 0 ? -1 : timeout * 1000) else {
                throw ControlFailure("\(daemon.description) is still running after \(timeout) s", status: 1)
            }
            print("\(daemon.description) has exited")
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the kernel's audit status and the daemon's own.",
        discussion: """
            The kernel's view comes from AUDIT_GET (what 'auditctl -s' shows): enabled, failure mode, \
            the registered daemon, backlog and its limit, lost records, rate limit and backlog wait \
            time. When the registered daemon is a swift-auditd, it is sent SIGCONT to write a fresh \
            state report, and the report is shown: log file and size, rotated files, records written, \
            the held backlog collected at registration, and losses by cause.

            --format prometheus prints the same figures in Prometheus' text exposition format \
            (swift_auditd_* series: records received by type, written, lost by cause, the kernel's \
            backlog and limit, the held backlog, write latency, bytes written, rotations, disk free, \
            log size, per plugin queued/dropped/restarts), what the daemon also writes for \
            node_exporter's textfile collector when swift-auditd.conf sets metrics_textfile.

            Exit status: 0 when a swift-auditd is registered, 3 when it is not running (no daemon, or \
            another one, is registered), 1 on errors, 4 without the privilege AUDIT_GET needs.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, prometheus
    }

    @Option(help: ArgumentHelp("What to print: text for people, prometheus for the text exposition format.",
                               valueName: "format"))
    var format: Format = .text

    @Option(help: ArgumentHelp("Directory where the daemon keeps its state report.", valueName: "dir"))
    var runDirectory: String = RunDirectory.defaultPath

    @OptionGroup var kernel: KernelOptions

    func run() throws {
        try reporting {
            let control = try kernel.control()
            let (text, running) = format == .text ? try control.status(runDirectory: runDirectory)
                                                  : try control.metrics(runDirectory: runDirectory)
            print(text, terminator: "")
            if !running { throw ExitCode(3) }
        }
    }
}
