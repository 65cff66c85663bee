import Foundation
import RemoteProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking TCP client for the listener's tests: what it sends is exactly the bytes given,
/// and every receive has a time limit (SO_RCVTIMEO), so no test waits for ever.
final class TestClient {
    let fd: Int32
    /// The client's own port, as the server sees it.
    let localPort: UInt16

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to `host` (an IPv4 or IPv6 literal) on `port`, from `sourcePort` when given.
    init(host: String = "127.0.0.1", port: Int, sourcePort: UInt16? = nil, timeout: Duration = .seconds(10)) throws {
        let v6 = host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length: socklen_t
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeBytes(of: address) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeBytes(of: address) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
        }
        if let sourcePort {
            var local = storage
            withUnsafeMutableBytes(of: &local) { bytes in
                // sin_port and sin6_port are both at offset 2.
                bytes[2] = UInt8(sourcePort >> 8)
                bytes[3] = UInt8(sourcePort & 0xff)
                if v6 { for index in 8..<24 { bytes[index] = 0 } } else { for index in 4..<8 { bytes[index] = 0 } }
            }
            let status = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
            }
            guard status == 0 else {
                close(fd)
                throw Failure(description: "bind to source port \(sourcePort): \(String(cString: strerror(errno)))")
            }
        }
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "connect to \(host) port \(port): \(reason)")
        }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
        }
        localPort = withUnsafeBytes(of: local) { UInt16($0[2]) << 8 | UInt16($0[3]) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Ends the connection from this side (the server reads its end).
    func hangUp() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// A MESSAGE frame for `record`, as audisp-remote builds it.
    func sendRecord(_ record: String, sequenceID: UInt32) throws {
        try send(Self.frame(record, sequenceID: sequenceID))
    }

    /// `record` in a MESSAGE frame, as audisp-remote builds it.
    static func frame(_ record: String, sequenceID: UInt32) -> [UInt8] {
        let bytes = Array(record.utf8)
        return RemoteFrameHeader(type: .message, length: UInt16(bytes.count), sequenceID: sequenceID).bytes + bytes
    }

    /// `records` in MESSAGE frames one after the other, their sequence ids 1, 2, …: a pipelined stream.
    static func frames(_ records: [String]) -> [UInt8] {
        records.enumerated().flatMap { frame($0.element, sequenceID: UInt32($0.offset + 1)) }
    }

    /// Exactly `count` bytes, or fewer when the server closed the connection first.
    func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = bytes[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received == 0 { break }
            guard received > 0 else { throw Failure(description: "recv: \(String(cString: strerror(errno)))") }
            offset += received
        }
        return Array(bytes[0..<offset])
    }

    /// The next reply: its header and its text.
    func receiveReply() throws -> (header: RemoteFrameHeader, text: String) {
        let header = try receive(RemoteFrameHeader.size)
        guard header.count == RemoteFrameHeader.size else { throw Failure(description: "connection closed, \(header.count) bytes of a reply") }
        let type = RemoteMessageType(rawValue: UInt32(header[6]) | UInt32(header[7]) << 8 | UInt32(header[8]) << 16 | UInt32(header[9]) << 24)
        let length = Int(header[10]) | Int(header[11]) << 8
        let sequenceID = UInt32(header[12]) | UInt32(header[13]) << 8 | UInt32(header[14]) << 16 | UInt32(header[15]) << 24
        guard Array(header[0..<4]) == [0xfe, 0x00, 0x00, 0xff] else { throw Failure(description: "reply without the magic: \(header)") }
        let text = try receive(length)
        return (RemoteFrameHeader(type: type, length: UInt16(length), sequenceID: sequenceID), String(decoding: text, as: UTF8.self))
    }

    /// Whether the server closed the connection: the next read finds its end (or a reset).
    func isClosedByServer() -> Bool {
        var byte: UInt8 = 0
        let received = recv(fd, &byte, 1, 0)
        return received == 0 || (received < 0 && errno == ECONNRESET)
    }
}
