import AuditSystem
import AuditProtocol
import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// The one socket the daemon talks to the kernel through: requests, replies and records.
///
/// Either a real `NETLINK_AUDIT` socket, or the daemon's end of a `socketpair` whose other end a
/// test's `FakeKernel` holds. Everything above this type runs unchanged on both.
public final class AuditSocket: Sendable {
    public enum Kind: Sendable {
        /// Unicast from the kernel to the registered daemon.
        case kernel
        /// A member of the read-only multicast group `AUDIT_NLGRP_READLOG`.
        case multicast
        /// One end of a socket pair; the other end plays the kernel.
        case pair
    }

    public let descriptor: Int32
    public let kind: Kind

    init(descriptor: Int32, kind: Kind) {
        self.descriptor = descriptor
        self.kind = kind
    }

    deinit { close(descriptor) }

    /// Opens a `NETLINK_AUDIT` socket bound to a port id of the kernel's choosing.
    public static func kernel() throws(SystemCallError) -> AuditSocket {
        try openNetlink(groups: 0, kind: .kernel)
    }

    /// Opens a `NETLINK_AUDIT` socket that has joined the read-only multicast group. Needs
    /// `CAP_AUDIT_READ`; no registration, no held backlog, and no back-pressure on the kernel.
    public static func multicast() throws(SystemCallError) -> AuditSocket {
        try openNetlink(groups: 1 << (CAudit_AUDIT_NLGRP_READLOG() - 1), kind: .multicast)
    }

    private static func openNetlink(groups: UInt32, kind: Kind) throws(SystemCallError) -> AuditSocket {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_AUDIT)
        guard fd >= 0 else { throw SystemCallError("socket", errno: errno, subject: "NETLINK_AUDIT") }
        let socket = AuditSocket(descriptor: fd, kind: kind)
        guard CAudit_bind_netlink(fd, groups) == 0 else {
            throw SystemCallError("bind", errno: errno, subject: groups == 0 ? "NETLINK_AUDIT" : "AUDIT_NLGRP_READLOG")
        }
        return socket
    }

    /// A connected `SOCK_SEQPACKET` pair: the daemon's end and the fake kernel's end.
    public static func pair() throws(SystemCallError) -> (daemon: AuditSocket, kernel: AuditSocket) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemCallError("socketpair", errno: errno) }
        return (AuditSocket(descriptor: fds[0], kind: .pair), AuditSocket(descriptor: fds[1], kind: .pair))
    }

    /// Adopts a descriptor the process inherited: one end of a socket pair whose other end plays
    /// the kernel (a test's `FakeKernel`). The socket is closed with this object.
    public static func inherited(descriptor: Int32) throws(SystemCallError) -> AuditSocket {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            throw SystemCallError("getsockopt", errno: errno, subject: "inherited descriptor \(descriptor)")
        }
        guard type == Int32(SOCK_SEQPACKET.rawValue) else {
            throw SystemCallError("getsockopt", errno: ENOTSOCK, subject: "descriptor \(descriptor) is not a SOCK_SEQPACKET socket")
        }
        // Not passed on to what the daemon runs (a disk action's program).
        guard fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0 else {
            throw SystemCallError("fcntl(F_SETFD)", errno: errno, subject: "inherited descriptor \(descriptor)")
        }
        return AuditSocket(descriptor: descriptor, kind: .pair)
    }

    /// The port id records are addressed to; 0 for a pair.
    public var portID: UInt32 { kind == .pair ? 0 : CAudit_netlink_port_id(descriptor) }

    /// Whether a datagram from this sender may be read as the kernel's. On netlink the kernel is
    /// port 0 and anything else is another process (auditd: "Spoofed packet received on audit
    /// netlink socket"); a pair's peer is fixed when the pair is made.
    @inlinable
    public func acceptsSender(hasNetlinkAddress: Bool, portID: UInt32) -> Bool {
        switch kind {
        case .pair: true
        case .kernel, .multicast: hasNetlinkAddress && portID == 0
        }
    }

    /// Sends one whole message. Netlink sends without an address go to the kernel (port 0).
    public func send(_ bytes: [UInt8]) throws(SystemCallError) {
        let sent = bytes.withUnsafeBytes { raw in
            retryingOnInterrupt { Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
        }
        guard sent == bytes.count else { throw SystemCallError("send", errno: sent < 0 ? errno : EMSGSIZE) }
    }

    /// Asks for a receive buffer of `bytes`, past `rmem_max` when privileged (`SO_RCVBUFFORCE`).
    /// Returns the size the kernel granted (it doubles the request for bookkeeping).
    @discardableResult
    public func setReceiveBufferSize(_ bytes: Int32) -> Int32 {
        var size = bytes
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
        return receiveBufferSize
    }

    public var receiveBufferSize: Int32 {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, &length)
        return size
    }

    /// Waits until the socket is readable or `timeoutMilliseconds` pass (-1 waits forever).
    /// Also watches `other`, when given, and reports which became readable.
    public func waitReadable(timeoutMilliseconds: Int32, alsoWatching other: Int32? = nil)
        throws(SystemCallError) -> (socket: Bool, other: Bool)
    {
        try waitReadable(timeoutNanoseconds: timeoutMilliseconds < 0 ? -1 : Int64(timeoutMilliseconds) * 1_000_000,
                         alsoWatching: other)
    }

    /// As `waitReadable(timeoutMilliseconds:alsoWatching:)`, to the nanosecond (`ppoll`): the
    /// record loop waits for fractions of a millisecond.
    /// `watchingSocket: false` waits for `other` or the timeout only (poll skips a negative fd).
    public func waitReadable(timeoutNanoseconds: Int64, alsoWatching other: Int32? = nil, watchingSocket: Bool = true)
        throws(SystemCallError) -> (socket: Bool, other: Bool)
    {
        // A tuple, not an array: the record loop polls once per batch and must not allocate.
        var fds = (pollfd(fd: watchingSocket ? descriptor : -1, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: other ?? -1, events: Int16(POLLIN), revents: 0))
        let count: nfds_t = other == nil ? 1 : 2
        let ready = withUnsafeMutableBytes(of: &fds) { raw in
            CAudit_poll_nanoseconds(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), UInt(count), timeoutNanoseconds)
        }
        if ready < 0 {
            if errno == EINTR { return (false, false) }
            throw SystemCallError("ppoll", errno: errno)
        }
        let readable = Int16(POLLIN | POLLERR | POLLHUP)
        return (fds.0.revents & readable != 0, other != nil && fds.1.revents & readable != 0)
    }
}
