import AuditSystem
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the service is doing (`Type=notify`): one datagram of `KEY=value` lines on
/// the unix socket named by `$NOTIFY_SOCKET` (sd_notify(3); the protocol is the datagram, so
/// there is no libsystemd). A name starting with `@` is in the abstract namespace.
///
/// Without `$NOTIFY_SOCKET` (not started by systemd) every call does nothing. A datagram that
/// cannot be sent is reported once and otherwise ignored: readiness is systemd's business, the
/// records are ours.
public final class SystemdNotifier: @unchecked Sendable {  // used by the daemon's one thread
    /// The socket's address as given (`/run/systemd/notify`, `@name`), or nil when not notifying.
    public let address: String?
    private let logger: Logger
    /// Made at the first notification.
    private var notifySocket: Descriptor?
    private var reportedFailure = false

    /// Notifies the socket at `address`; nil does nothing.
    public init(address: String?, logger: Logger) {
        self.address = address?.isEmpty == false ? address : nil
        self.logger = logger
    }

    /// `READY=1`: the daemon is registered with the kernel and writing.
    public func ready(status: String) { send("READY=1\nSTATUS=\(Self.oneLine(status))") }

    /// `STATUS=`: a line for `systemctl status`.
    public func status(_ text: String) { send("STATUS=\(Self.oneLine(text))") }

    /// `RELOADING=1`, with the monotonic time newer systemd (253+) wants beside it; `ready(status:)`
    /// ends the reload.
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())\nSTATUS=Reloading auditd.conf") }

    /// `STOPPING=1`.
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(Self.oneLine(status))") }

    /// A newline inside a value would start a new key.
    static func oneLine(_ text: String) -> String { String(text.map { $0 == "\n" ? " " : $0 }) }

    /// Sends one datagram of `KEY=value` lines.
    public func send(_ message: String) {
        guard let address else { return }
        if notifySocket == nil {
            let made = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard made >= 0 else { return report("socket", errno) }
            notifySocket = Descriptor(owning: made)
        }
        guard let descriptor = notifySocket?.rawValue else { return }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard path.count <= capacity, path.count > 0, path.first == 0 || path.first == UInt8(ascii: "/") else {
            return report("NOTIFY_SOCKET=\(address) is not a unix socket path", EINVAL)
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        // An abstract name's length is exactly its bytes; a path's includes its NUL.
        let length = MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1)
        let bytes = Array(message.utf8)
        let sent = bytes.withUnsafeBytes { payload in
            withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    sendto(descriptor, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL), generic, socklen_t(length))
                }
            }
        }
        if sent < 0 { report("sendto(\(address))", errno) }
    }

    private func report(_ what: String, _ code: Int32) {
        guard !reportedFailure else { return }
        reportedFailure = true
        logger.warning("cannot notify systemd: \(what): \(Errno(code).description)")
    }

    static func monotonicMicroseconds() -> UInt64 { UInt64(MonotonicClock.nanoseconds() / 1000) }
}
