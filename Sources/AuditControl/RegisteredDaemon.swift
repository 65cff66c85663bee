import AuditSystem
import AuditNetlink
import AuditProtocol
import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// The process the kernel has registered as its audit daemon, found and signalled the way
/// `auditctl --signal` does (src/auditctl.c: `send_signal`): the pid comes from the kernel
/// (`AUDIT_GET`), not from a PID file, and the signal goes through a pidfd, so a pid reused in the
/// meantime is never signalled by mistake.
public final class RegisteredDaemon {
    public let pid: Int32
    /// `/proc/PID/comm`, or nil when the process is gone.
    public let command: String?
    /// Where `/proc/PID/exe` points, or nil when it cannot be read.
    public let executable: String?
    /// The pidfd; nil where pidfd_open is missing (signals then go by pid).
    private let pidfd: Descriptor?

    /// Asks the kernel who is registered; nil when no daemon is.
    public static func find(client: AuditClient) throws(AuditClientError) -> RegisteredDaemon? {
        let status = try client.status()
        guard status.pid != 0 else { return nil }
        return RegisteredDaemon(pid: Int32(bitPattern: status.pid))
    }

    /// Opens a pidfd on `pid` at once, so later signals reach this process or none.
    public init(pid: Int32) {
        self.pid = pid
        let opened = CAudit_pidfd_open(pid)
        pidfd = opened >= 0 ? Descriptor(owning: opened) : nil
        command = ProcFile.firstLine("/proc/\(pid)/comm")
        executable = Self.readLink("/proc/\(pid)/exe")
    }

    /// Whether the registered process is a swift-auditd (its executable's name, or its command name).
    public var isSwiftAuditd: Bool {
        if let executable, executable.split(separator: "/").last.map(String.init)?.hasPrefix("swift-auditd") == true {
            return true
        }
        return command == "swift-auditd"
    }

    /// `swift-auditd (pid 1234)`, `auditd (pid 99)`, or `pid 5 (gone)`.
    public var description: String {
        guard let command else { return "pid \(pid) (no longer running)" }
        return "\(command) (pid \(pid))"
    }

    /// Sends `signal`. Falls back to `kill(2)` on a kernel without pidfds.
    public func send(_ signal: Int32) throws(SystemCallError) {
        if let pidfd {
            guard CAudit_pidfd_send_signal(pidfd.rawValue, signal) == 0 else {
                throw SystemCallError("pidfd_send_signal", errno: errno, subject: "pid \(pid)")
            }
            return
        }
        guard kill(pid, signal) == 0 else { throw SystemCallError("kill", errno: errno, subject: "pid \(pid)") }
    }

    /// Waits until the process has exited; false when it still runs after `timeoutMilliseconds`
    /// (-1 waits for ever).
    public func waitForExit(timeoutMilliseconds: Int32) -> Bool {
        let deadline = MonotonicClock.milliseconds() + Int64(timeoutMilliseconds)
        while true {
            let left = timeoutMilliseconds < 0 ? Int32(1000) : Int32(clamping: max(0, deadline - MonotonicClock.milliseconds()))
            if let pidfd {
                var watch = pollfd(fd: pidfd.rawValue, events: Int16(POLLIN), revents: 0)
                let ready = poll(&watch, 1, min(left, 1000))
                if ready > 0 { return true }
                if ready < 0, errno != EINTR { return !isRunning }
            } else {
                if !isRunning { return true }
                usleep(20_000)
            }
            if timeoutMilliseconds >= 0, MonotonicClock.milliseconds() >= deadline { return !isRunning }
        }
    }

    /// Whether the process still exists and is not a zombie.
    public var isRunning: Bool {
        guard let stat = ProcFile.firstLine("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
