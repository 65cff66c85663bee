import Logging
import NIOCore
import RemoteProtocol

/// The listener's connections and limits, on its one event loop (every method is called there):
/// who may connect (`tcp_client_ports`, `tcp_max_per_addr`, a silent connection replaced), who
/// has been idle too long (`tcp_client_max_idle`), and what a reload changes.
final class ConnectionRegistry: @unchecked Sendable {
    // @unchecked: confined to `eventLoop`; each entry point asserts it.
    let eventLoop: any EventLoop
    let logger: Logger
    /// Where answers given off the loop wait for it, for every connection.
    let mailbox: AcknowledgementMailbox
    private(set) var configuration: RemoteListenerConfiguration
    private var connections: [UInt64: RemoteConnectionHandler] = [:]
    /// What closed connections received, by client address: with the open ones' counts, a
    /// counter per client that does not fall when a client reconnects (the metrics' series).
    private var recordsFromClosedConnections: [String: UInt64] = [:]
    private var lastID: UInt64 = 0
    private var idleCheck: RepeatedTask?

    init(configuration: RemoteListenerConfiguration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        mailbox = AcknowledgementMailbox(eventLoop: eventLoop)
    }

    enum Admission {
        case refused(ListenerRecord.Refusal)
        /// Accepted as connection `id`; `replacing` were silent and are to be closed.
        case accepted(id: UInt64, replacing: [RemoteConnectionHandler])
    }

    /// auditd's checks after libwrap (`auditd_tcp_listen_handler`): the source port, then the
    /// number of connections from the address; a silent connection from it makes room.
    func admit(address: String, port: UInt16) -> Admission {
        eventLoop.preconditionInEventLoop()
        guard configuration.settings.clientPorts.contains(port) else { return .refused(.port) }
        let same = connections.values.filter { $0.client.address == address }
        var replacing: [RemoteConnectionHandler] = []
        if same.count >= configuration.settings.maxPerAddress {
            let now = NIODeadline.now()
            let silentSince = now - TimeAmount(configuration.replaceSilentAfter)
            let silent = same.filter { $0.lastActivity <= silentSince && $0.pendingRecords == 0 }
                .sorted { $0.lastActivity < $1.lastActivity }
            let needed = same.count - configuration.settings.maxPerAddress + 1
            guard silent.count >= needed else { return .refused(.dup) }
            replacing = Array(silent.prefix(needed))
        }
        lastID += 1
        return .accepted(id: lastID, replacing: replacing)
    }

    func add(_ connection: RemoteConnectionHandler) {
        eventLoop.preconditionInEventLoop()
        connections[connection.client.id] = connection
    }

    func remove(_ connection: RemoteConnectionHandler) {
        eventLoop.preconditionInEventLoop()
        guard connections.removeValue(forKey: connection.client.id) != nil else { return }
        recordsFromClosedConnections[connection.client.address, default: 0] += connection.recordsReceived
    }

    /// Records received from each address since the listener started, closed connections
    /// included; an address appears once one of its connections was accepted.
    var recordsByAddress: [String: UInt64] {
        var totals = recordsFromClosedConnections
        for connection in connections.values { totals[connection.client.address, default: 0] += connection.recordsReceived }
        return totals
    }

    var all: [RemoteConnectionHandler] { Array(connections.values).sorted { $0.client.id < $1.client.id } }

    /// New limits; connected clients stay. Port range and per-address limit apply to the next
    /// connections (as auditd's `auditd_set_ports`), the idle limit to every connection.
    func apply(_ configuration: RemoteListenerConfiguration) {
        eventLoop.preconditionInEventLoop()
        let idleChanged = configuration.clientMaxIdle != self.configuration.clientMaxIdle
        self.configuration = configuration
        if idleChanged || idleCheck == nil { scheduleIdleCheck() }
    }

    /// auditd closes, every `tcp_client_max_idle` seconds, the clients that sent nothing since the
    /// last look (so after one to two limits); here a client is closed once it has sent nothing
    /// for the limit, checked a few times per limit.
    func scheduleIdleCheck() {
        eventLoop.preconditionInEventLoop()
        idleCheck?.cancel()
        idleCheck = nil
        guard let limit = configuration.clientMaxIdle else { return }
        let quarter = TimeAmount.nanoseconds(TimeAmount(limit).nanoseconds / 4)
        let period = min(max(quarter, .milliseconds(10)), .seconds(1))
        idleCheck = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            self?.closeIdle(limit: TimeAmount(limit))
        }
    }

    private func closeIdle(limit: TimeAmount) {
        let since = NIODeadline.now() - limit
        for connection in all where connection.lastActivity <= since && connection.pendingRecords == 0 {
            // auditd's words: "client %s idle too long - closing connection"; its DAEMON_CLOSE is the plain one.
            logger.notice("client \(connection.client) idle too long - closing connection")
            connection.close(with: .closed(address: connection.client.address, port: connection.client.port))
        }
    }

    /// Ends every connection; the futures complete when each is closed (its DAEMON_CLOSE sent to the sink).
    func stop() -> [EventLoopFuture<Void>] {
        eventLoop.preconditionInEventLoop()
        idleCheck?.cancel()
        idleCheck = nil
        return all.compactMap { $0.end() }
    }
}
