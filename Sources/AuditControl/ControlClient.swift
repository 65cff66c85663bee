import AuditDaemon
import AuditNetlink
import AuditProtocol
import AuditSystem
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What the control commands (`status`, `rotate`, `reload`, `resume`, `stop`) do, as
/// `auditctl --signal` does: ask the kernel which daemon it registered (`AUDIT_GET`), signal that
/// process through a pidfd, wait for it to exit, or show its state. The executable only parses
/// the command line and prints what comes back.
public struct ControlClient {
    let client: AuditClient

    /// A client on the kernel's audit socket, or, for tests, on an inherited descriptor whose far
    /// end a fake kernel holds.
    public init(kernelDescriptor: Int32? = nil) throws(ControlFailure) {
        do throws(SystemCallError) {
            let socket: AuditSocket
            if let kernelDescriptor {
                socket = try AuditSocket.inherited(descriptor: kernelDescriptor)
            } else {
                socket = try AuditSocket.kernel()
            }
            client = AuditClient(socket: socket, logger: Logger(label: "swift-auditd"))
        } catch {
            throw ControlFailure("cannot open the kernel's audit socket: \(error)", status: error.errno == EPERM ? 4 : 1)
        }
    }

    /// The daemon the kernel has registered; a clear failure when there is none.
    public func registeredDaemon() throws(ControlFailure) -> RegisteredDaemon {
        let daemon: RegisteredDaemon?
        do {
            daemon = try RegisteredDaemon.find(client: client)
        } catch {
            throw ControlFailure.kernel(error, doing: "ask the kernel which audit daemon is registered (AUDIT_GET)")
        }
        guard let daemon else { throw ControlFailure("no audit daemon is registered with the kernel", status: 1) }
        return daemon
    }

    /// Sends `signal` (named `name` in what is said) to the registered daemon. Returns the daemon
    /// and the line that tells the user.
    public func signal(_ signal: Int32, named name: String) throws(ControlFailure) -> (RegisteredDaemon, String) {
        let daemon = try registeredDaemon()
        do {
            try daemon.send(signal)
        } catch {
            throw ControlFailure("cannot send \(name) to \(daemon.description): \(error)", status: error.errno == EPERM ? 4 : 1)
        }
        let note = daemon.isSwiftAuditd ? "" : " (the registered daemon is not a swift-auditd)"
        return (daemon, "sent \(name) to \(daemon.description)\(note)")
    }

    /// The kernel's status and, when a swift-auditd is registered (or a central server names
    /// itself in the run directory), its fresh state report, as `swift-auditd status` prints them.
    /// `swiftAuditdRunning` is false when no daemon, or another one, is registered.
    public func status(runDirectory: String) throws(ControlFailure) -> (text: String, swiftAuditdRunning: Bool) {
        let observed = try observe(runDirectory: runDirectory)
        let text = StatusText.render(kernel: observed.kernel, daemon: observed.daemon, report: observed.report,
                                     stateFile: RunDirectory(runDirectory).stateFile,
                                     now: DaemonRecordStamper.wallClock().seconds, networkServer: observed.networkServer)
        return (text, observed.daemon?.isSwiftAuditd == true || observed.networkServer != nil)
    }

    /// The same, in Prometheus' text exposition format (`status --format prometheus`): the
    /// kernel's backlog, limit and `lost` from this `AUDIT_GET`, the rest from the daemon's fresh
    /// state report; only `swift_auditd_up 0` and the kernel's gauges when no swift-auditd runs.
    public func metrics(runDirectory: String) throws(ControlFailure) -> (text: String, swiftAuditdRunning: Bool) {
        let observed = try observe(runDirectory: runDirectory)
        let kernel = PrometheusExposition.KernelGauges(backlog: observed.kernel.backlog, backlogLimit: observed.kernel.backlogLimit,
                                                       lost: observed.kernel.lost)
        let reporter = observed.networkServer?.pid ?? observed.daemon?.pid
        let report = observed.report.flatMap { $0.pid == reporter ? $0 : nil }
        return (PrometheusExposition.render(report, kernel: kernel), report != nil)
    }

    /// `AUDIT_GET`, the registered daemon, a central server the run directory's PID file names,
    /// and the fresh state report of whichever swift-auditd that is.
    func observe(runDirectory: String) throws(ControlFailure)
        -> (kernel: AuditStatus, daemon: StatusText.Daemon?, report: DaemonStateReport?, networkServer: StatusText.Daemon?) {
        let status: AuditStatus
        do throws(AuditClientError) {
            status = try client.status()
        } catch {
            throw ControlFailure.kernel(error, doing: "ask the kernel for its audit status (AUDIT_GET)")
        }
        let directory = RunDirectory(runDirectory)
        var daemon: StatusText.Daemon?
        var report: DaemonStateReport?
        var registered: RegisteredDaemon?
        if status.pid != 0 {
            let found = RegisteredDaemon(pid: Int32(bitPattern: status.pid))
            registered = found
            daemon = StatusText.Daemon(pid: found.pid, description: found.description, isSwiftAuditd: found.isSwiftAuditd)
        }
        // A central server (local_events = no) is registered nowhere: the run directory's PID
        // file names it, and then it is the one asked for a report, not the registered daemon.
        var networkServer: StatusText.Daemon?
        if let pid = directory.pidInPIDFile(), pid != daemon?.pid, RegisteredDaemon(pid: pid).isSwiftAuditd {
            let server = RegisteredDaemon(pid: pid)
            networkServer = StatusText.Daemon(pid: pid, description: server.description, isSwiftAuditd: true)
            report = freshReport(from: server, in: directory)
        } else if let registered, registered.isSwiftAuditd {
            report = freshReport(from: registered, in: directory)
        }
        return (status, daemon, report, networkServer)
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

/// A failure a control command reports on standard error, with its exit status (auditctl's and
/// systemd's conventions: 1 an error, 3 not running, 4 not allowed).
public struct ControlFailure: Error, CustomStringConvertible {
    public let description: String
    public let status: Int32

    public init(_ description: String, status: Int32) {
        self.description = description
        self.status = status
    }

    static func kernel(_ error: AuditClientError, doing what: String) -> ControlFailure {
        if case let .refused(_, code) = error, code == EPERM || code == EACCES || code == ECONNREFUSED {
            return ControlFailure("not allowed to \(what): this needs root (CAP_AUDIT_CONTROL) in the initial namespaces", status: 4)
        }
        return ControlFailure("cannot \(what): \(error)", status: 1)
    }
}
