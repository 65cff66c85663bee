#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor this process owns, closed exactly once: when its owner lets go of it.
/// The daemon's wake-up pipe, its log file, the control client's pidfd and the notify socket are
/// held as one, so no raw number outlives its file or is closed twice. To close one early, drop it.
public final class Descriptor: Sendable {
    /// The number, for the calls that take one (`write`, `poll`, `fsync`).
    public let rawValue: Int32

    /// Takes ownership of `rawValue`, an open descriptor.
    public init(owning rawValue: Int32) {
        precondition(rawValue >= 0, "a descriptor to own must be open")
        self.rawValue = rawValue
    }

    /// Linux releases the descriptor even when `close` fails (`EINTR` included), so it is never
    /// retried, and there is nothing left to do about a failure here.
    deinit { _ = Glibc.close(rawValue) }

    /// `fcntl(F_SETFD, FD_CLOEXEC)`: not inherited by programs the daemon runs.
    public func setCloseOnExec() throws(SystemCallError) {
        guard fcntl(rawValue, F_SETFD, FD_CLOEXEC) == 0 else { throw SystemCallError("fcntl(F_SETFD)", errno: errno) }
    }

    /// `fcntl(F_SETFL, O_NONBLOCK)`.
    public func setNonBlocking() throws(SystemCallError) {
        let flags = fcntl(rawValue, F_GETFL)
        guard flags >= 0, fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw SystemCallError("fcntl(F_SETFL)", errno: errno)
        }
    }

    /// A pipe, both ends close-on-exec, and non-blocking when asked.
    public static func pipe(nonBlocking: Bool = false) throws(SystemCallError) -> (read: Descriptor, write: Descriptor) {
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { throw SystemCallError("pipe", errno: errno) }
        let pair = (read: Descriptor(owning: ends[0]), write: Descriptor(owning: ends[1]))
        for end in [pair.read, pair.write] {
            try end.setCloseOnExec()
            if nonBlocking { try end.setNonBlocking() }
        }
        return pair
    }
}

/// Calls `body` again while it fails with `EINTR`: the one retry loop for interrupted system calls.
@inlinable
public func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result < 0 && errno == EINTR { continue }
        return result
    }
}
