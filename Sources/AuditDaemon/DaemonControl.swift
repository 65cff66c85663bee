import AuditSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Requests to the running daemon from outside its loop: signals in production, a test's hand in
/// tests. Each request wakes the loop through a pipe it polls beside the netlink socket, and
/// is handled between receive batches, never in the middle of one.
public final class DaemonControl: Sendable {
    public enum Command: Sendable, Equatable {
        /// Unregister, drain the socket, write everything, write `DAEMON_END`, sync, and return
        /// (SIGTERM, SIGINT).
        case stop(reason: String, origin: SignalOrigin? = nil)
        /// Read auditd.conf again and apply it, or keep the old one if the new one is bad
        /// (SIGHUP); `DAEMON_CONFIG` either way.
        case reload(origin: SignalOrigin? = nil)
        /// Rotate the log now, `DAEMON_ROTATE` first in the new file (SIGUSR1).
        case rotate(origin: SignalOrigin? = nil)
        /// Resume logging after a suspension, `DAEMON_RESUME` (SIGUSR2).
        case resume(origin: SignalOrigin? = nil)
        /// Write the state report (SIGCONT).
        case reportState(origin: SignalOrigin? = nil)
    }

    /// Readable whenever a command waits.
    public var wakeDescriptor: Int32 { wakeReader.rawValue }
    private let wakeReader: Descriptor
    private let wakeWriter: Descriptor
    private let pending = Mutex<[Command]>([])
    private let coalescedCount = Atomic<UInt64>(0)

    /// Commands folded into one of the same kind that was still waiting.
    public var coalesced: UInt64 { coalescedCount.load(ordering: .relaxed) }

    public init() throws(AuditDaemonError) {
        // Not inherited by what the daemon runs; never blocking the signal thread or the loop.
        do {
            (wakeReader, wakeWriter) = try Descriptor.pipe(nonBlocking: true)
        } catch {
            throw AuditDaemonError(.startFailure, "cannot create the daemon's wake-up pipe", cause: error)
        }
    }

    /// Queues a command and wakes the loop. Safe from any thread. A command of a kind already
    /// waiting is folded into it (as the kernel folds a signal already pending), so a flood of
    /// signals cannot grow the queue; `coalesced` counts them.
    public func send(_ command: Command) {
        let added = pending.withLock { commands in
            if commands.contains(where: { $0.kind == command.kind }) { return false }
            commands.append(command)
            return true
        }
        if !added {
            coalescedCount.add(1, ordering: .relaxed)
            return
        }
        var byte: UInt8 = 1
        _ = write(wakeWriter.rawValue, &byte, 1)  // a full pipe already wakes the loop
    }

    /// Wakes the loop without a command: remote records wait for it (`RemoteInbox`). Safe from
    /// any thread, never blocking (a full pipe already wakes the loop).
    public func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter.rawValue, &byte, 1)
    }

    /// Whether a command is queued. A lock and no system call, so the record loop can ask before
    /// every batch; `takeAll()` (a `read` of the pipe) runs only when the answer is yes or the
    /// pipe polled readable.
    var hasCommands: Bool { pending.withLock { !$0.isEmpty } }

    /// Takes every queued command, oldest first, and empties the wake-up pipe.
    func takeAll() -> [Command] {
        // On the stack: the loop comes here at each wake-up, once a record for a central server
        // that answers one client at a time.
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { drained in
            while read(wakeReader.rawValue, drained.baseAddress, drained.count) > 0 {}
        }
        return pending.withLock { commands in
            defer { commands.removeAll() }
            return commands
        }
    }
}

extension DaemonControl.Command {
    /// The command without where it came from.
    enum Kind: Equatable { case stop, reload, rotate, resume, reportState }

    var kind: Kind {
        switch self {
        case .stop: .stop
        case .reload: .reload
        case .rotate: .rotate
        case .resume: .resume
        case .reportState: .reportState
        }
    }
}

/// Where a command came from: the signal and what `siginfo_t` said of its sender.
public struct SignalOrigin: Sendable, Hashable, CustomStringConvertible {
    public var signal: Int32
    /// The sender's pid and real uid (`si_pid`, `si_uid`); meaningful when `sentByProcess`.
    public var pid: Int32
    public var uid: UInt32
    /// Sent by a process with `kill(2)` or `pidfd_send_signal(2)` (`SI_USER`), not by the
    /// kernel or a terminal.
    public var sentByProcess: Bool

    public init(signal: Int32, pid: Int32, uid: UInt32, sentByProcess: Bool = true) {
        self.signal = signal
        self.pid = pid
        self.uid = uid
        self.sentByProcess = sentByProcess
    }

    /// Whether the kernel remembers who sent it, for `AUDIT_SIGNAL_INFO`: only SIGTERM, SIGHUP,
    /// SIGUSR1 and SIGUSR2 to the registered daemon (`audit_signal_info`, kernel/audit.c).
    public var isRememberedByKernel: Bool {
        signal == SIGTERM || signal == SIGHUP || signal == SIGUSR1 || signal == SIGUSR2
    }

    public var description: String {
        sentByProcess ? "\(SignalOrigin.name(of: signal)) from pid \(pid) (uid \(uid))" : SignalOrigin.name(of: signal)
    }

    /// `SIGTERM`, `SIGHUP`, … for the signals the daemon answers; `signal N` for others.
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGCONT: "SIGCONT"
        default: "signal \(signal)"
        }
    }
}
