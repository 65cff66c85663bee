import AuditSystem
import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// A plugin program, started as auditd 3.0.9 starts one (`audisp/audispd.c: safe_exec`): its
/// standard input one end of a `socketpair(AF_UNIX, SOCK_STREAM)`, `execve(path, [path, args…])`
/// with an empty environment, no other descriptor of the daemon's. Unlike auditd, the child starts
/// with the default signal mask and dispositions (the daemon blocks and ignores signals of its own),
/// and the daemon's end is non-blocking: the dispatcher writes what the plugin takes and keeps the
/// rest queued, so a slow plugin never holds up the record loop.
final class PluginProcess {
    let pid: pid_t
    /// The daemon's end of the socket pair, non-blocking and close-on-exec.
    let socket: Descriptor
    /// Readable when the process has exited (`pidfd_open`), for the dispatcher's poll.
    let exitDescriptor: Descriptor

    /// Starts `program` with `arguments` (argv[1…]).
    init(program: String, arguments: [String]) throws(SystemCallError) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw SystemCallError("socketpair", errno: errno, subject: program)
        }
        let ours = Descriptor(owning: ends[0])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 0)
        CAudit_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment: [UnsafeMutablePointer<CChar>?] = [nil]
        var child: pid_t = 0
        let spawned = posix_spawn(&child, program, &actions, &attributes, &argv, &environment)
        close(ends[1])
        guard spawned == 0 else { throw SystemCallError("execve", errno: spawned, subject: program) }
        pid = child
        let exit = CAudit_pidfd_open(child)
        guard exit >= 0 else {
            let code = errno
            kill(child, SIGKILL)
            var status: Int32 = 0
            _ = retryingOnInterrupt { waitpid(child, &status, 0) }
            throw SystemCallError("pidfd_open", errno: code, subject: program)
        }
        exitDescriptor = Descriptor(owning: exit)
        try ours.setNonBlocking()
        socket = ours
    }

    /// Whether the process has exited; reaps it when it has (no zombie is left).
    func reapIfExited() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid ? status : nil
    }

    /// Closes the daemon's end: the plugin reads end of file.
    func closeSocket() { shutdown(socket.rawValue, Int32(SHUT_RDWR)) }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process and reaps it.
    func reap() {
        var status: Int32 = 0
        _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
    }
}
