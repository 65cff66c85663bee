import RemoteProtocol

/// What the listener runs on: auditd.conf's listener keywords, and the few choices auditd does
/// not have (each with a default that needs no thought).
public struct RemoteListenerConfiguration: Hashable, Sendable {
    /// The auditd.conf keywords, as the parser typed them.
    public var settings: RemoteListenerSettings
    /// The port to listen on: `tcp_listen_port`, or 0 for one the kernel picks (tests).
    public var port: Int
    /// The address to listen on. nil listens as auditd does: one IPv6 socket that takes IPv4
    /// clients too (`::`, IPV6_V6ONLY off), or IPv4 only where the machine has no IPv6.
    public var host: String?
    /// `tcp_client_max_idle`: a connection that sent nothing for this long is closed. nil: never.
    public var clientMaxIdle: Duration?
    /// Better than auditd (audit-userspace issue 33): when an address is at `tcp_max_per_addr`
    /// and one of its connections has been silent this long, a new connection from it closes the
    /// silent one (`DAEMON_CLOSE op=stale`) instead of being refused as a duplicate: a client that
    /// rebooted or lost its network reconnects at once, not after TCP keepalive gives up (hours).
    /// The idle limit when one is set, else a minute.
    public var replaceSilentAfter: Duration
    /// Records of one connection handed on and not yet acknowledged before the listener stops
    /// reading it. audisp-remote has one at a time; a client sending faster waits here.
    public var maximumPendingRecords: Int = 64
    /// tcp_wrappers' tables, for `use_libwrap` (tests point them elsewhere).
    public var hostsAllowPath = "/etc/hosts.allow"
    public var hostsDenyPath = "/etc/hosts.deny"

    public init(settings: RemoteListenerSettings) {
        self.settings = settings
        port = Int(settings.port ?? 0)
        clientMaxIdle = settings.clientMaxIdle > 0 ? .seconds(settings.clientMaxIdle) : nil
        replaceSilentAfter = clientMaxIdle ?? .seconds(60)
    }

    /// These settings applied to a running listener at reload: the limits change, the socket
    /// stays (`RemoteListenerSettings.keywordsNeedingRestart` names what waits for a restart).
    public func reloaded(with new: RemoteListenerSettings) -> RemoteListenerConfiguration {
        var configuration = RemoteListenerConfiguration(settings: new)
        configuration.port = port
        configuration.host = host
        configuration.settings.port = settings.port
        configuration.settings.listenQueue = settings.listenQueue
        configuration.settings.transport = settings.transport
        configuration.maximumPendingRecords = maximumPendingRecords
        configuration.hostsAllowPath = hostsAllowPath
        configuration.hostsDenyPath = hostsDenyPath
        return configuration
    }
}
