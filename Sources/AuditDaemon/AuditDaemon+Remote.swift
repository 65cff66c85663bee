import AuditProtocol
import AuditRemote
import Logging
import NIOCore
import RemoteProtocol

/// The central server: the remote listener started, reloaded and stopped with the daemon
/// (auditd's src/auditd-listen.c: `auditd_tcp_listen_init`, `auditd_tcp_listen_reconfigure`,
/// `auditd_tcp_listen_uninit`).
extension AuditDaemon {
    /// Starts the listener when `tcp_listen_port` is set: its records go to the loop through the
    /// inbox, its DAEMON_ACCEPT/CLOSE are written as the daemon's own.
    func startListener(loop: RecordLoop) throws(AuditDaemonError) {
        let settings = configuration.remote
        guard settings.isEnabled || listenerPortOverride != nil else { return }
        let inbox = RemoteInbox(control: control)
        var listenerConfiguration = RemoteListenerConfiguration(settings: settings)
        if let port = listenerPortOverride {
            listenerConfiguration.port = port
            listenerConfiguration.host = "127.0.0.1"
        }
        let listener = RemoteListener(configuration: listenerConfiguration, sink: inbox,
                                      logger: Logger(label: "swift-auditd.remote"))
        loop.remoteInbox = inbox
        loop.distributeNetwork = settings.distributeNetwork
        loop.writeListenerRecord = { [unowned self] record in
            write(DaemonRecord(AuditMessageType(rawValue: record.kind.rawValue), record.text))
        }
        do {
            listenerAddresses = try listener.startAndWait().map { "\($0)" }
        } catch {
            listener.stopAndWait()
            loop.remoteInbox = nil
            throw AuditDaemonError(.startFailure, "cannot start the remote listener (tcp_listen_port = "
                + "\(settings.port.map(String.init) ?? "none"))", cause: error)
        }
        self.inbox = inbox
        self.listener = listener
        let port = listenerPortOverride ?? Int(settings.port ?? 0)
        logger.notice("listening for audisp-remote clients on TCP port \(port)",
                      metadata: ["addresses": "\(listenerAddresses)", "distribute_network": "\(settings.distributeNetwork)"])
    }

    /// SIGHUP: the new limits apply to the running listener without dropping a client; what
    /// needs a restart is said (auditd reconfigures its listener the same way).
    func reloadListener(_ new: RemoteListenerSettings) {
        guard let listener else {
            if new.isEnabled { logger.warning("tcp_listen_port was set by the reload: the listener starts only at a restart") }
            return
        }
        loop.distributeNetwork = new.distributeNetwork
        let needRestart = listener.applyAndWait(new)
        if !needRestart.isEmpty {
            logger.warning("remote listener: \(needRestart.joined(separator: ", ")) changed; it takes effect only at a restart")
        }
    }

    /// Stops the listener (ENDING to each client, a DAEMON_CLOSE each), then writes everything it
    /// left in the inbox. Does nothing when there is none, or a second time.
    func stopListener() {
        guard let listener else { return }
        self.listener = nil
        listener.stopAndWait()
        loop.takeAllRemoteRecords()
    }

    /// The connected clients with their counts, for the state report.
    func remoteClientLines() -> [String] {
        guard let listener else { return [] }
        return listener.connectionsAndWait().map { connection in
            "\(connection.client) records=\(connection.recordsReceived) replies=\(connection.repliesSent) "
                + "pending=\(connection.pendingRecords) connected=\(connection.connectedFor.components.seconds)s"
        }
    }
}
