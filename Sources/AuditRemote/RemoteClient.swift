/// Who sent a record: one connection of one client.
public struct RemoteClient: Hashable, Sendable, CustomStringConvertible {
    /// The connection's number, from 1, never reused while the listener runs.
    public let id: UInt64
    /// The client's address as `inet_ntop` writes it (and auditd's records show it): an IPv4
    /// client of the dual-stack socket is `::ffff:192.0.2.1`.
    public let address: String
    /// The client's source port.
    public let port: UInt16

    public init(id: UInt64, address: String, port: UInt16) {
        self.id = id
        self.address = address
        self.port = port
    }

    /// `address:port`, as auditd's diagnostics write a client (`sockaddr_to_addr`).
    public var description: String { "\(address):\(port)" }
}
