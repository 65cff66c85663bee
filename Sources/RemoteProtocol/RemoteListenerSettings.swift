/// The network-listener keywords of auditd.conf as typed values, with auditd 3.0.9's defaults
/// (`clear_config`, src/auditd-config.c). The parser checks each value as auditd does; what
/// this server cannot do (Kerberos) is refused at start by `startupProblem`.
public struct RemoteListenerSettings: Hashable, Sendable {
    /// `transport`: how clients talk to the server.
    public enum Transport: String, Hashable, Sendable {
        case tcp
        /// Kerberos 5 (GSS-API) wrapped frames.
        case krb5
        /// TLS, in auditd 4.2 and later only.
        case tls
    }

    /// `tcp_listen_port`: nil when absent, and the listener is off.
    public var port: UInt16?
    /// `tcp_listen_queue`: the `listen()` backlog, 1…65535.
    public var listenQueue: Int = 5
    /// `tcp_max_per_addr`: connections at once from one address, 1…1024.
    public var maxPerAddress: Int = 1
    /// `use_libwrap`: ask tcp_wrappers about each client.
    public var useLibwrap = true
    /// `tcp_client_ports`: the source ports clients may connect from.
    public var clientPorts: ClosedRange<UInt16> = 0...UInt16.max
    /// `tcp_client_max_idle`, in seconds; 0 keeps idle clients for ever.
    public var clientMaxIdle: Int = 0
    public var transport: Transport = .tcp
    /// `krb5_principal` and `krb5_key_file`: read for auditd's sake, used by no transport here.
    public var krb5Principal: String?
    public var krb5KeyFile: String?
    /// `distribute_network`: records from clients also go to plugins.
    public var distributeNetwork = false

    public init() {}

    public var isEnabled: Bool { port != nil }

    /// Why a listener with these settings cannot start, or nil. auditd itself would start with
    /// `transport = KRB5`; swift-auditd has no GSS-API, and a server that quietly spoke plain TCP
    /// to clients expecting Kerberos would be worse than one that stops.
    public var startupProblem: String? {
        guard isEnabled else { return nil }
        switch transport {
        case .tcp: return nil
        case .krb5:
            return "transport = KRB5 is not supported by swift-auditd (no Kerberos/GSS-API): use transport = TCP, "
                + "or Debian's auditd for a Kerberos listener"
        case .tls:
            return "transport = TLS is auditd 4.2's and is not supported by swift-auditd: use transport = TCP"
        }
    }

    /// The keywords whose change a reload cannot apply to a running listener (as auditd: its
    /// socket and transport stay as they started; a listener that was off may be started).
    /// Every other listener keyword applies at reload, to connected clients too, without
    /// dropping them.
    public func keywordsNeedingRestart(toApply new: RemoteListenerSettings) -> [String] {
        guard isEnabled else { return [] }
        var keywords: [String] = []
        if new.port != port { keywords.append("tcp_listen_port") }
        if new.listenQueue != listenQueue { keywords.append("tcp_listen_queue") }
        if new.transport != transport { keywords.append("transport") }
        return keywords
    }
}
