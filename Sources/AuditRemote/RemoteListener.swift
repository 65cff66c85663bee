import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RemoteProtocol

/// The central server's TCP listener for `audisp-remote` clients (auditd's src/auditd-listen.c,
/// 3.0.9, on swift-nio): accepts connections as auditd does (tcp_wrappers, the source port range,
/// the per-address limit, in that order), reads their frames, hands each record to the sink and
/// answers it when the sink says the record is durable.
///
/// Threading: one event loop runs the listening socket and every connection (as auditd's one
/// thread does); the sink is called on it. A client sending one byte a second, or a thousand
/// connections from one address, costs that loop a little work per byte or per connection and
/// holds nothing up. Name lookups and tcp_wrappers' files are read on a thread of their own.
///
///     let listener = RemoteListener(configuration: .init(settings: conf.remote), sink: daemonSide)
///     try listener.startAndWait()            // or `try await listener.start()`
///     ...  // sink.receive(record): queue it; after the write (or the sync) record.acknowledgement.complete()
///     let needRestart = listener.applyAndWait(newConf.remote)   // SIGHUP
///     listener.stopAndWait()                 // ENDING to every client, a DAEMON_CLOSE each
///
/// Each call has an async form and a blocking `…AndWait` form for a caller on a thread of its
/// own (never the listener's loop, where a blocking call would wait for itself).
public final class RemoteListener: Sendable {
    public let eventLoop: any EventLoop
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let threadPool: NIOThreadPool
    private let registry: ConnectionRegistry
    private let sink: any RemoteRecordSink
    private let servers = NIOLockedValueBox<[any Channel]>([])
    private let logger: Logger

    /// A listener that will run on `group`'s next loop, or on a one-thread group of its own.
    public init(configuration: RemoteListenerConfiguration, sink: any RemoteRecordSink,
                group: (any EventLoopGroup)? = nil, logger: Logger = Logger(label: "swift-auditd.remote")) {
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        ownsGroup = group == nil
        eventLoop = self.group.next()
        threadPool = NIOThreadPool(numberOfThreads: 1)
        self.sink = sink
        self.logger = logger
        registry = ConnectionRegistry(configuration: configuration, eventLoop: eventLoop, logger: logger)
    }

    /// Opens the listening socket; returns the addresses it listens on (the port the kernel
    /// picked, when the configuration's is 0). Throws `RemoteListenerError` when the settings ask
    /// for what this server cannot do or the port cannot be bound.
    @discardableResult
    public func start() async throws -> [SocketAddress] { try await startFuture().get() }

    /// `start()` for a caller on a thread of its own (the daemon's), never the listener's loop.
    @discardableResult
    public func startAndWait() throws -> [SocketAddress] { try startFuture().wait() }

    private func startFuture() -> EventLoopFuture<[SocketAddress]> {
        eventLoop.flatSubmit { [self] in
            let configuration = registry.configuration
            guard configuration.settings.isEnabled || configuration.port == 0 else {
                return eventLoop.makeFailedFuture(RemoteListenerError.disabled)
            }
            if let problem = configuration.settings.startupProblem {
                return eventLoop.makeFailedFuture(RemoteListenerError.unsupportedTransport(problem))
            }
            threadPool.start()
            let bound: EventLoopFuture<any Channel>
            if let host = configuration.host {
                bound = bind(host: host, configuration: configuration, dualStack: false)
            } else {
                // auditd's one socket for both families, or IPv4 alone on a machine without IPv6.
                bound = bind(host: "::", configuration: configuration, dualStack: true).flatMapError { error in
                    guard let error = error as? IOError, [EAFNOSUPPORT, EADDRNOTAVAIL].contains(error.errnoCode) else {
                        return self.eventLoop.makeFailedFuture(error)
                    }
                    return self.bind(host: "0.0.0.0", configuration: configuration, dualStack: false)
                }
            }
            return bound.flatMapErrorThrowing { error in
                if error is RemoteListenerError { throw error }
                throw RemoteListenerError.cannotListen(port: configuration.port, reason: String(describing: error))
            }.map { channel in
                self.servers.withLockedValue { $0.append(channel) }
                self.registry.scheduleIdleCheck()
                self.logger.debug("Listening on TCP port \(channel.localAddress?.port ?? configuration.port)")
                return [channel.localAddress].compactMap { $0 }
            }
        }
    }

    private func bind(host: String, configuration: RemoteListenerConfiguration, dualStack: Bool) -> EventLoopFuture<any Channel> {
        var bootstrap = ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: Int32(clamping: configuration.settings.listenQueue))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RefusalSwallower()) }
            }
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [registry, sink, threadPool] channel in
                Self.admit(channel, registry: registry, sink: sink, threadPool: threadPool)
            }
        if dualStack {
            // IPV6_V6ONLY off: auditd's `prefer_ipv6` in auditd_tcp_listen_init.
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 0)
        }
        return bootstrap.bind(host: host, port: configuration.port)
    }

    /// A new connection, on the event loop: tcp_wrappers (off the loop), then the registry's
    /// checks; a refusal is a DAEMON_ACCEPT `res=no` and the socket closed before any byte is read.
    private static func admit(_ channel: any Channel, registry: ConnectionRegistry, sink: any RemoteRecordSink,
                              threadPool: NIOThreadPool) -> EventLoopFuture<Void> {
        guard let remote = channel.remoteAddress, let address = remote.ipAddress, let port = remote.port else {
            return channel.eventLoop.makeFailedFuture(RefusedConnection())
        }
        let configuration = registry.configuration
        let wrapped: EventLoopFuture<Bool>
        if configuration.settings.useLibwrap {
            let allow = configuration.hostsAllowPath, deny = configuration.hostsDenyPath
            wrapped = threadPool.runIfActive(eventLoop: channel.eventLoop) {
                HostsAccess.allows(remote, allowTable: allow, denyTable: deny)
            }
        } else {
            wrapped = channel.eventLoop.makeSucceededFuture(true)
        }
        let clientPort = UInt16(truncatingIfNeeded: port)
        return wrapped.flatMapThrowing { allowed in
            guard allowed else {
                registry.logger.error("TCP connection from \(address):\(port) rejected")
                sink.write(.refused(.wrap, address: address, port: clientPort), client: nil)
                throw RefusedConnection()
            }
            switch registry.admit(address: address, port: clientPort) {
            case let .refused(refusal):
                registry.logger.error(refusal == .dup ? "Too many connections from \(address):\(port) - rejected"
                                                      : "TCP connection from \(address):\(port) rejected")
                sink.write(.refused(refusal, address: address, port: clientPort), client: nil)
                throw RefusedConnection()
            case let .accepted(id, replacing):
                for old in replacing {
                    registry.logger.notice("client \(old.client) silent since the same address reconnected - closing it")
                    old.close(with: .closed(reason: "stale", address: old.client.address, port: old.client.port))
                }
                let client = RemoteClient(id: id, address: address, port: clientPort)
                let handler = RemoteConnectionHandler(client: client, sink: sink, mailbox: registry.mailbox, registry: registry)
                try channel.pipeline.syncOperations.addHandler(handler)
                registry.add(handler)
                sink.write(.accepted(address: address, port: clientPort), client: client)
            }
        }
    }

    /// Applies reloaded settings without dropping a client; returns the keywords that changed and
    /// need a restart to take effect (the port, the listen queue, the transport).
    public func apply(_ settings: RemoteListenerSettings) async -> [String] {
        (try? await applyFuture(settings).get()) ?? []
    }

    /// `apply(_:)` for a caller on a thread of its own (the daemon's reload).
    public func applyAndWait(_ settings: RemoteListenerSettings) -> [String] {
        (try? applyFuture(settings).wait()) ?? []
    }

    private func applyFuture(_ settings: RemoteListenerSettings) -> EventLoopFuture<[String]> {
        eventLoop.submit { [registry] in
            let current = registry.configuration
            registry.apply(current.reloaded(with: settings))
            return current.settings.keywordsNeedingRestart(toApply: settings)
        }
    }

    /// Applies a whole configuration (tests: durations below a second).
    public func apply(_ configuration: RemoteListenerConfiguration) async {
        try? await eventLoop.submit { [registry] in registry.apply(configuration) }.get()
    }

    /// The connected clients, oldest first, with their counts (for `swift-auditd status`).
    public func connections() async -> [RemoteConnectionStatus] {
        (try? await connectionsFuture().get()) ?? []
    }

    /// `connections()` for a caller on a thread of its own.
    public func connectionsAndWait() -> [RemoteConnectionStatus] {
        (try? connectionsFuture().wait()) ?? []
    }

    private func connectionsFuture() -> EventLoopFuture<[RemoteConnectionStatus]> {
        eventLoop.submit { [registry] in
            let now = NIODeadline.now()
            return registry.all.map {
                RemoteConnectionStatus(client: $0.client, recordsReceived: $0.recordsReceived, repliesSent: $0.repliesSent,
                                       pendingRecords: $0.pendingRecords,
                                       connectedFor: .nanoseconds((now - $0.connectedAt).nanoseconds))
            }
        }
    }

    /// Records received from each client address since the start, closed connections included
    /// (for the metrics: a counter that does not fall when a client reconnects).
    public func recordsByAddressAndWait() -> [String: UInt64] {
        (try? eventLoop.submit { [registry] in registry.recordsByAddress }.wait()) ?? [:]
    }

    /// Stops listening, sends ENDING to every client and closes it (auditd's
    /// `auditd_tcp_listen_uninit`), each with its DAEMON_CLOSE; then the listener's threads end.
    public func stop() async {
        try? await closeAll().get()
        try? await threadPool.shutdownGracefully()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// `stop()` for a caller on a thread of its own (the daemon's shutdown).
    public func stopAndWait() {
        try? closeAll().wait()
        try? threadPool.syncShutdownGracefully()
        if ownsGroup { try? group.syncShutdownGracefully() }
    }

    private func closeAll() -> EventLoopFuture<Void> {
        let channels = servers.withLockedValue { channels in
            defer { channels = [] }
            return channels
        }
        let eventLoop = self.eventLoop
        let closed = channels.map { $0.close() }
        return EventLoopFuture.andAllComplete(closed, on: eventLoop).flatMap { [registry] in
            // Completed on the listener's loop, where the registry lives.
            EventLoopFuture.andAllComplete(registry.stop(), on: eventLoop)
        }
    }
}
/// A connected client and what it has sent.
public struct RemoteConnectionStatus: Hashable, Sendable {
    public let client: RemoteClient
    public let recordsReceived: UInt64
    public let repliesSent: UInt64
    public let pendingRecords: Int
    public let connectedFor: Duration
}

/// A connection the listener refused; its DAEMON_ACCEPT is already with the sink.
struct RefusedConnection: Error {}

/// Keeps refusals, which the listener has already reported, out of swift-nio's error path.
private final class RefusalSwallower: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is RefusedConnection { return }
        context.fireErrorCaught(error)
    }
}
