import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Requests to the running daemon from outside its loop: signals in production, a test's hand in
/// tests. Each request wakes the loop through a pipe it polls beside the netlink socket, and
/// is handled between receive batches, never in the middle of one.
public final class DaemonControl: Sendable {
    public enum Command: Sendable, Equatable {
        /// Unregister, drain the socket, write everything, sync, and return.
        case stop(reason: String)
    }

    /// Readable whenever a command waits.
    public let wakeDescriptor: Int32
    private let wakeWriter: Int32
    private let pending = Mutex<[Command]>([])

    public init() throws(AuditDaemonError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw AuditDaemonError(.startFailure, "cannot create the daemon's wake-up pipe (errno \(errno))")
        }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        wakeDescriptor = ends[0]
        wakeWriter = ends[1]
    }

    deinit {
        close(wakeDescriptor)
        close(wakeWriter)
    }

    /// Queues a command and wakes the loop. Safe from any thread.
    public func send(_ command: Command) {
        pending.withLock { $0.append(command) }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)  // a full pipe already wakes the loop
    }

    /// Whether a command is queued. A lock and no system call, so the record loop can ask before
    /// every batch; `takeAll()` (a `read` of the pipe) runs only when the answer is yes or the
    /// pipe polled readable.
    var hasCommands: Bool { pending.withLock { !$0.isEmpty } }

    /// Takes every queued command, oldest first, and empties the wake-up pipe.
    func takeAll() -> [Command] {
        var drained = [UInt8](repeating: 0, count: 64)
        while read(wakeDescriptor, &drained, drained.count) > 0 {}
        return pending.withLock { commands in
            defer { commands.removeAll() }
            return commands
        }
    }
}
