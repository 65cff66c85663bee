import Foundation

/// A unix datagram socket of the test's own, standing in for systemd's `$NOTIFY_SOCKET`: the
/// daemon's notifications arrive here, each with the time it arrived.
public final class NotifySocket: @unchecked Sendable {  // used by one test at a time
    public let path: String
    private let descriptor: Int32

    /// Binds a socket at `path` (which must not exist).
    public init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// One notification and when it arrived, or nil when none came within `timeout`.
    public func receive(timeout: Duration = .seconds(5)) -> (message: String, at: ContinuousClock.Instant)? {
        var watch = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&watch, 1, milliseconds) == 1 else { return nil }
        let arrived = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return (String(decoding: buffer[0..<count], as: UTF8.self), arrived)
    }

    /// Notifications until one contains `text` (that one included), or nil on timeout.
    public func receive(until text: String, timeout: Duration = .seconds(10)) -> [String]? {
        let deadline = ContinuousClock.now + timeout
        var messages: [String] = []
        while ContinuousClock.now < deadline {
            guard let (message, _) = receive(timeout: deadline - ContinuousClock.now) else { return nil }
            messages.append(message)
            if message.contains(text) { return messages }
        }
        return nil
    }
}
