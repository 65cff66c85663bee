#if canImport(Glibc)
import Glibc
#endif

/// The run level a disk action can switch the system to.
public enum Runlevel: String, Sendable, Equatable {
    /// `single`: `/sbin/init 1`.
    case single = "1"
    /// `halt`: `/sbin/init 0`.
    case halt = "0"
}

/// What the disk actions do outside the daemon: run an administrator's program, or change the run
/// level. The seam exists so that tests record these requests instead: a test must never halt or
/// single-user the machine it runs on.
public protocol SystemActions: Sendable {
    /// Starts `path` (an `exec` action) without waiting for it.
    func run(executable path: String)
    /// Asks init for `level`, as auditd's `change_runlevel` does.
    func changeRunlevel(_ level: Runlevel)
}

/// The real actions: `posix_spawn` of the program or of `/sbin/init LEVEL`, reaped on a thread of
/// their own so no zombie is left.
public struct SystemCommands: SystemActions {
    public init() {}

    public func run(executable path: String) {
        Self.spawn([path])
    }

    public func changeRunlevel(_ level: Runlevel) {
        Self.spawn(["/sbin/init", level.rawValue])
    }

    @discardableResult
    static func spawn(_ arguments: [String]) -> pid_t? {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = posix_spawn(&pid, arguments[0], nil, nil, &argv, environ)
        guard result == 0 else { return nil }
        let child = pid
        var thread = pthread_t()
        let box = UnsafeMutablePointer<pid_t>.allocate(capacity: 1)
        box.pointee = child
        if pthread_create(&thread, nil, { raw in
            let pointer = raw!.assumingMemoryBound(to: pid_t.self)
            var status: Int32 = 0
            while waitpid(pointer.pointee, &status, 0) < 0, errno == EINTR {}
            pointer.deallocate()
            return nil
        }, box) == 0 {
            pthread_detach(thread)
        } else {
            box.deallocate()
        }
        return child
    }
}
