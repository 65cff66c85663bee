/// A record the listener asks the daemon to write as its own: auditd's `DAEMON_ACCEPT` and
/// `DAEMON_CLOSE`, with the texts `auditd_tcp_listen_handler` and `release_client` format
/// (src/auditd-listen.c, 3.0.9). The address is as `inet_ntop` writes it: an IPv4 client of
/// the dual-stack socket is `::ffff:192.0.2.1`, as in auditd's log.
public struct ListenerRecord: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: UInt16, Hashable, Sendable {
        /// `AUDIT_DAEMON_ACCEPT`
        case accept = 1224
        /// `AUDIT_DAEMON_CLOSE`
        case close = 1225

        public var name: String { self == .accept ? "DAEMON_ACCEPT" : "DAEMON_CLOSE" }
    }

    /// Why a connection was refused, as auditd's `op=` says it.
    public enum Refusal: String, Hashable, Sendable {
        /// tcp_wrappers (`/etc/hosts.allow`, `/etc/hosts.deny`) refused the client.
        case wrap
        /// The client's source port is outside `tcp_client_ports`.
        case port
        /// The address already has `tcp_max_per_addr` connections.
        case dup
    }

    public var kind: Kind
    /// What follows `msg=audit(...):` in the log line.
    public var text: String

    public init(kind: Kind, text: String) {
        self.kind = kind
        self.text = text
    }

    /// `addr=%s port=%u res=success`: a client was accepted.
    public static func accepted(address: String, port: UInt16) -> ListenerRecord {
        ListenerRecord(kind: .accept, text: "addr=\(address) port=\(port) res=success")
    }

    /// `op=wrap|port|dup addr=%s port=%u res=no`: a client was refused at accept.
    public static func refused(_ refusal: Refusal, address: String, port: UInt16) -> ListenerRecord {
        ListenerRecord(kind: .accept, text: "op=\(refusal.rawValue) addr=\(address) port=\(port) res=no")
    }

    /// `addr=%s port=%u res=success`: a connection ended the way auditd ends them (the client
    /// closed it, it was idle past `tcp_client_max_idle`, or the server stopped).
    public static func closed(address: String, port: UInt16) -> ListenerRecord {
        ListenerRecord(kind: .close, text: "addr=\(address) port=\(port) res=success")
    }

    /// `op=REASON addr=%s port=%u res=no`: the server closed a connection for a reason auditd does
    /// not have (swift-auditd's own text, in auditd's form for refusals): a frame it refuses
    /// (`RemoteProtocolError.closeReason`), or `stale` when the same address reconnected while
    /// this connection had been silent past the limit.
    public static func closed(reason: String, address: String, port: UInt16) -> ListenerRecord {
        ListenerRecord(kind: .close, text: "op=\(reason) addr=\(address) port=\(port) res=no")
    }

    public var description: String { "type=\(kind.name) \(text)" }
}
