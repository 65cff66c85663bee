import AuditSystem
import ArgumentParser
import AuditDaemon
import AuditNetlink
import AuditProtocol
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Options every command that talks to the kernel shares.
struct KernelOptions: ParsableArguments {
    @Option(name: .customLong("kernel-fd"), help: ArgumentHelp(
        "For tests only: ask the fake kernel on this inherited SOCK_SEQPACKET descriptor instead of netlink.",
        valueName: "fd", visibility: .hidden))
    var kernelDescriptor: Int32?

    /// A client on the kernel's audit socket (or the test's fake kernel).
    func client() throws -> AuditClient {
        let logger = Logger(label: "swift-auditd")
        do throws(SystemCallError) {
            let socket: AuditSocket
            if let kernelDescriptor {
                socket = try AuditSocket.inherited(descriptor: kernelDescriptor)
            } else {
                socket = try AuditSocket.kernel()
            }
            return AuditClient(socket: socket, logger: logger)
        } catch {
            throw Failure("cannot open the kernel's audit socket: \(error)", status: error.errno == EPERM ? 4 : 1)
        }
    }

    /// The daemon the kernel has registered; a clear failure when there is none.
    func registeredDaemon(_ client: AuditClient) throws -> RegisteredDaemon {
        let daemon: RegisteredDaemon?
        do {
            daemon = try RegisteredDaemon.find(client: client)
        } catch {
            throw Failure.kernel(error, doing: "ask the kernel which audit daemon is registered (AUDIT_GET)")
        }
        guard let daemon else { throw Failure("no audit daemon is registered with the kernel", status: 1) }
        return daemon
    }
}

/// A failure a control command reports on standard error, with its exit status.
struct Failure: Error, CustomStringConvertible {
    let description: String
    let status: Int32
    init(_ description: String, status: Int32) {
        self.description = description
        self.status = status
    }

    static func kernel(_ error: AuditClientError, doing what: String) -> Failure {
        if case let .refused(_, code) = error, code == EPERM || code == EACCES || code == ECONNREFUSED {
            return Failure("not allowed to \(what): this needs root (CAP_AUDIT_CONTROL) in the initial namespaces", status: 4)
        }
        return Failure("cannot \(what): \(error)", status: 1)
    }
}

extension ParsableCommand {
    /// Runs `body`; a `Failure` is printed and becomes the exit status.
    func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as Failure {
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
        let client = try kernel.client()
        let daemon = try kernel.registeredDaemon(client)
        do {
            try daemon.send(Self.signal)
        } catch {
            throw Failure("cannot send \(Self.signalName) to \(daemon.description): \(error)",
                          status: error.errno == EPERM ? 4 : 1)
        }
        let note = daemon.isSwiftAuditd ? "" : " (the registered daemon is not a swift-auditd)"
        print("sent \(Self.signalName) to \(daemon.description)\(note)")
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
                throw Failure("\(daemon.description) is still running after \(timeout) s", status: 1)
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

            Exit status: 0 when a swift-auditd is registered, 3 when it is not running (no daemon, or \
            another one, is registered), 1 on errors, 4 without the privilege AUDIT_GET needs.
            """)

    @Option(help: ArgumentHelp("Directory where the daemon keeps its state report.", valueName: "dir"))
    var runDirectory: String = RunDirectory.defaultPath

    @OptionGroup var kernel: KernelOptions

    func run() throws {
        try reporting {
            let client = try kernel.client()
            let status: AuditStatus
            do throws(AuditClientError) {
                status = try client.status()
            } catch {
                throw Failure.kernel(error, doing: "ask the kernel for its audit status (AUDIT_GET)")
            }
            let directory = RunDirectory(runDirectory)
            var daemon: StatusText.Daemon?
            var report: DaemonStateReport?
            if status.pid != 0 {
                let registered = RegisteredDaemon(pid: Int32(bitPattern: status.pid))
                daemon = StatusText.Daemon(pid: registered.pid, description: registered.description,
                                           isSwiftAuditd: registered.isSwiftAuditd)
                if registered.isSwiftAuditd {
                    report = freshReport(from: registered, in: directory)
                }
            }
            print(StatusText.render(kernel: status, daemon: daemon, report: report, stateFile: directory.stateFile,
                                    now: DaemonRecordStamper.wallClock().seconds), terminator: "")
            if daemon?.isSwiftAuditd != true { throw ExitCode(3) }
        }
    }

    /// Asks the daemon for a new report (SIGCONT) and waits up to 2 s for it; the last one otherwise.
    func freshReport(from daemon: RegisteredDaemon, in directory: RunDirectory) -> DaemonStateReport? {
        let before = directory.readState()
        guard (try? daemon.send(SIGCONT)) != nil else { return before }
        let deadline = MonotonicClock.milliseconds() + 2000
        while MonotonicClock.milliseconds() < deadline {
            if let report = directory.readState(), report.pid == daemon.pid,
               report.sequence > (before?.pid == daemon.pid ? before!.sequence : 0) {
                return report
            }
            usleep(20_000)
        }
        return directory.readState()
    }
}
