import AuditDispatch
import AuditLog
import AuditNetlink
import AuditProtocol
import AuditRemote
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The audit daemon: registers with the kernel, then receives records and writes them to the log
/// until told to stop, and stops without losing what it received.
///
/// The daemon keeps the lifecycle (the run directory, registration, the stop, systemd, the state
/// report); its `RecordLoop` runs the record path on the same thread: a batched receive,
/// formatting into one buffer, one `write` when the socket is drained or the batch window closes.
/// Commands (stop, and what signals ask for) arrive through `DaemonControl` and are handled
/// between batches.
public final class AuditDaemon {
    /// The configuration in force; a reload (SIGHUP) replaces it.
    public internal(set) var configuration: AuditdConfiguration
    public let options: DaemonOptions
    let socket: AuditSocket
    let control: DaemonControl
    let logger: Logger
    let processID: UInt32
    let kernelCommandLine: KernelCommandLine?
    let notifier: SystemdNotifier
    let identity: ProcessIdentity
    var stamper: DaemonRecordStamper
    /// What the state report and the summary count beyond the writer and the client.
    var state = DaemonStateReport()
    /// Folded signals already reported.
    var reportedCoalesced: UInt64 = 0
    /// The record path; made by `run()` once the log is open, and used only on its thread.
    var loop: RecordLoop!
    /// Writes the ENRICHED part of each line when `log_format = ENRICHED`; nil for the default,
    /// names from the system's account databases. Tests pass one with names of their own.
    let enricher: RecordEnricher?
    /// What the disk actions `exec`, `single` and `halt` run; tests replace it.
    let systemActions: any SystemActions
    /// The central server's listener, when `tcp_listen_port` is set; made by `run()`.
    var listener: RemoteListener?
    /// Where the listener's records wait for the loop.
    var inbox: RemoteInbox?
    /// Tests: the listener on a port the kernel picks (0) on loopback, instead of `tcp_listen_port`.
    public var listenerPortOverride: Int?
    /// The addresses the listener listens on, once it started (tests read the port).
    public internal(set) var listenerAddresses: [String] = []

    /// Whether the daemon reads the kernel at all: not with `local_events = no`, auditd's
    /// aggregator that only writes network records (a reload does not change it, as in auditd).
    var readsKernel: Bool { configuration.localEvents }
    /// Whether it is (or becomes) the kernel's registered audit daemon.
    var registers: Bool { readsKernel && socket.kind != .multicast }

    public init(configuration: AuditdConfiguration, options: DaemonOptions, socket: AuditSocket,
                control: DaemonControl, logger: Logger, processID: UInt32 = UInt32(getpid()),
                kernelCommandLine: KernelCommandLine? = KernelCommandLine.current(),
                notifier: SystemdNotifier? = nil, stamper: DaemonRecordStamper = DaemonRecordStamper(),
                enricher: RecordEnricher? = nil,
                systemActions: any SystemActions = SystemCommands()) {
        self.configuration = configuration
        self.options = options
        self.socket = socket
        self.control = control
        self.logger = logger
        self.processID = processID
        self.kernelCommandLine = kernelCommandLine
        self.notifier = notifier ?? SystemdNotifier(address: nil, logger: logger)
        self.identity = ProcessIdentity.current(pid: processID)
        self.stamper = stamper
        self.enricher = enricher
        self.systemActions = systemActions
    }

    /// What a run did, for the closing diagnostics and for tests.
    public struct Summary: Sendable {
        public var receive = ReceiveCounters()
        /// Lines written: the kernel's records and the daemon's own.
        public var recordsWritten: UInt64 = 0
        /// `DAEMON_*` records written (counted in `recordsWritten` too).
        public var daemonRecordsWritten: UInt64 = 0
        public var recordsDropped: UInt64 = 0
        /// Records not written because logging was suspended (a disk or size action) or
        /// `write_logs = no`.
        public var recordsNotLogged: UInt64 = 0
        /// Records the kernel held before registration and delivered to us.
        public var heldRecordsCollected: UInt64?
        /// The kernel's `lost` counter at registration and at the stop.
        public var lostAtRegistration: UInt32?
        public var lostAtStop: UInt32?
        /// Records from clients (a central server): received, answered ACK after their write,
        /// and answered with a refusal (logging suspended, disk full or failing).
        public var remoteRecordsReceived: UInt64 = 0
        public var remoteRecordsAcknowledged: UInt64 = 0
        public var remoteRecordsRefused: UInt64 = 0
        /// Each plugin at the stop: what it was sent, dropped, and how often it was restarted.
        public var plugins: [PluginStatus] = []
    }

    /// Runs until a `.stop` command, or until a fake kernel closes its end.
    ///
    /// The order is auditd's (src/auditd.c: `main`): the PID file, the log, `DAEMON_START`, then
    /// the kernel: enable, register. A refusal there is written as `DAEMON_ABORT` before the error
    /// is thrown (exit 1). systemd hears `READY=1` only once the kernel acknowledged the registration.
    public func run() throws(AuditDaemonError) -> Summary {
        state.pid = Int32(bitPattern: processID)
        state.startedAt = DaemonRecordStamper.wallClock().seconds
        state.mode = !readsKernel ? "network only" : socket.kind == .multicast ? "multicast" : "registered"
        if let runDirectory = options.runDirectory {
            try runDirectory.prepare()
            try runDirectory.writePIDFile(pid: Int32(bitPattern: processID))
        }
        defer {
            options.runDirectory?.removePIDFile(ifNaming: Int32(bitPattern: processID))
            options.runDirectory?.removeState()
        }
        let dispatcher: Dispatcher
        do {
            dispatcher = try Dispatcher(settings: configuration.dispatcherSettings, systemActions: systemActions, logger: logger)
        } catch {
            throw AuditDaemonError(.startFailure, "cannot set up the plugin dispatcher", cause: error)
        }
        // Plugins start before the first record, so they get DAEMON_START as auditd's do.
        dispatcher.start()
        defer { dispatcher.stop() }
        let loop = RecordLoop(socket: socket, writer: try openLog(), control: control, dispatcher: dispatcher,
                              batchWindow: options.batchWindow, logger: logger)
        self.loop = loop
        let metricsTextfile = startMetricsTextfile()
        defer { metricsTextfile?.remove() }
        loop.readsKernel = readsKernel
        write(.start(version: SwiftAuditdVersion.current,
                     format: configuration.writeLogs ? configuration.logFormat.rawValue : "nolog",
                     kernel: Self.kernelRelease(), identity: identity))
        let granted = socket.setReceiveBufferSize(options.receiveBufferSize)
        var summary = Summary()

        if !readsKernel {
            // local_events = no (auditd: no netlink socket at all): the socket here is one end of a
            // pair nobody writes to, so the loop runs unchanged and never hears from the kernel;
            // no request is ever sent on it.
            logger.notice("local_events = no: not reading the kernel; writing only network records and the daemon's own")
        } else if socket.kind != .multicast {
            let status: AuditStatus
            do {
                status = try register()
            } catch let failure {
                abort(failure)
                throw failure.error
            }
            summary.lostAtRegistration = status.lost
            state.kernelLostAtRegistration = status.lost
            notifier.ready(status: "Registered as the kernel's audit daemon (pid \(processID)); writing to \(configuration.logFile)")
        } else {
            logger.notice("listening on the read-only multicast group (shadow mode): not registered, no held backlog")
            // Shadow mode changes nothing in the kernel, so it cannot switch auditing on; say so
            // when it is off, or the log would stay empty without a word.
            if let status = try? loop.status(timeout: .seconds(2)), status.enabled == 0 {
                logger.warning("auditing is off (enabled=0): no records will arrive until it is switched on (auditctl -e 1)")
            }
            notifier.ready(status: "Shadow mode: reading the kernel's multicast group; writing to \(configuration.logFile)")
        }
        defer { stopListener() }
        try startListener(loop: loop)
        if !readsKernel {
            notifier.ready(status: "Network only (local_events = no): writing clients' records to \(configuration.logFile)")
        }
        logger.notice("writing records to \(configuration.logFile)",
                      metadata: ["receive_buffer": "\(granted)", "pid": "\(processID)"])
        reportState(askKernel: false)

        let stopOrigin = try loop.run(countsHeldBacklog: registers,
                                      heldBacklogCounted: { heldBacklogCounted() },
                                      handle: { handle($0) })
        try stop(origin: stopOrigin, registered: registers, summary: &summary)
        // The plugins get DAEMON_END and what waits for them, then end of file.
        dispatcher.stop()
        summary.plugins = dispatcher.statuses

        summary.receive = loop.client.counters
        if let inbox {
            summary.remoteRecordsReceived = inbox.counts.received
            summary.remoteRecordsAcknowledged = loop.acknowledgements.acknowledged
            summary.remoteRecordsRefused = loop.acknowledgements.refused
        }
        summary.recordsWritten = loop.writer.recordsWritten
        summary.recordsDropped = loop.writer.recordsDropped
        summary.recordsNotLogged = loop.writer.recordsNotLogged + loop.writer.pendingRecords
        summary.daemonRecordsWritten = state.daemonRecordsWritten
        summary.heldRecordsCollected = loop.tracker?.collected
        logSummary(summary)
        return summary
    }

    // MARK: - The held backlog

    /// The held backlog is complete (or a second passed): say how much of it came, once.
    private func heldBacklogCounted() {
        let tracker = loop.tracker
        reportHeldBacklog(tracker)
        state.heldRecordsCollected = tracker?.collected
        notifier.status("Writing to \(configuration.logFile); collected \(tracker?.collected ?? 0) records "
            + "the kernel held before registration")
        reportState(askKernel: false)
    }

    private func reportHeldBacklog(_ tracker: HeldBacklogTracker?) {
        guard let tracker else { return }
        var metadata: Logger.Metadata = ["held_records": "\(tracker.collected)"]
        if let first = tracker.first, let last = tracker.last, tracker.collected > 0 {
            metadata["first"] = "\(first)"
            metadata["last"] = "\(last)"
        }
        logger.notice("collected \(tracker.collected) records the kernel held before registration", metadata: metadata)
    }

    // MARK: - Stopping

    /// Empties the kernel's queue into the log, unregisters, then drains the socket until it stays
    /// quiet, writes everything and syncs: every record the kernel produced while we were registered
    /// is on disk before the process exits.
    ///
    /// auditd unregisters without reading what is left: records still in its socket, and those in
    /// the kernel's queue, are lost when it leaves (the kernel drops them unless booted with
    /// `audit=1`). swift-auditd first receives until the kernel reports an empty queue (bounded by
    /// two seconds, in case audited processes keep producing), then unregisters.
    private func stop(origin: SignalOrigin?, registered: Bool, summary: inout Summary) throws(AuditDaemonError) {
        notifier.stopping(status: "Stopping\(origin.map { " (\($0))" } ?? ""): writing everything the kernel sent")
        // Asked first, as auditd, while the kernel still holds the sender; records that arrive
        // meanwhile are written right after the answer.
        let sender = sender(of: origin)
        // Clients get ENDING and their DAEMON_CLOSE is written; what they sent is in the log
        // before DAEMON_END (auditd's auditd_tcp_listen_uninit, before its last record).
        stopListener()
        if registered {
            loop.emptyKernelQueue()
            do {
                try loop.set(AuditStatus(mask: .pid, pid: 0), timeout: .seconds(2))
            } catch {
                logger.error("could not unregister from the kernel", metadata: ["error": "\(error)"])
            }
        }
        if readsKernel { loop.drain() }
        if registered {
            summary.lostAtStop = (try? loop.status(timeout: .seconds(2)))?.lost
            loop.drain()
        }
        // The last line: every record received is above it.
        write(.end(sender: sender))
        do {
            try loop.writer.flushAndSync()
        } catch {
            throw AuditDaemonError(.startFailure, "could not write the last records to the log", cause: error)
        }
    }

    private func logSummary(_ summary: Summary) {
        for plugin in summary.plugins {
            let level: Logger.Level = plugin.dropped > 0 ? .warning : .notice
            logger.log(level: level, "plugin \(plugin.summary)")
        }
        var metadata: Logger.Metadata = [
            "received": "\(summary.receive.records)", "written": "\(summary.recordsWritten)",
            "daemon_records": "\(summary.daemonRecordsWritten)",
            "dropped": "\(summary.recordsDropped)", "refused_senders": "\(summary.receive.refusedSenders)",
            "malformed": "\(summary.receive.malformed)", "enobufs": "\(summary.receive.overruns)",
        ]
        if let held = summary.heldRecordsCollected { metadata["held_collected"] = "\(held)" }
        if inbox != nil {
            metadata["remote_received"] = "\(summary.remoteRecordsReceived)"
            metadata["remote_acknowledged"] = "\(summary.remoteRecordsAcknowledged)"
            metadata["remote_refused"] = "\(summary.remoteRecordsRefused)"
        }
        if let start = summary.lostAtRegistration, let end = summary.lostAtStop {
            metadata["kernel_lost_while_running"] = "\(end &- start)"
        }
        metadata["not_logged"] = "\(summary.recordsNotLogged)"
        if summary.recordsNotLogged > 0 {
            let why = configuration.writeLogs ? "logging was suspended" : "write_logs = no"
            logger.warning("\(summary.recordsNotLogged) received records were not written: \(why)")
        }
        if summary.recordsDropped == 0 {
            logger.notice("stopped; every received record is on disk\(summary.recordsNotLogged > 0 ? " or counted as not logged" : "")",
                          metadata: metadata)
        } else {
            logger.error("stopped; \(summary.recordsDropped) received records could not be written to \(configuration.logFile)",
                         metadata: metadata)
        }
    }

    /// ` (COMM)` for a pid, from `/proc/PID/comm`, or empty.
    static func commandName(of pid: UInt32) -> String {
        guard let text = try? AuditdConfiguration.readFile("/proc/\(pid)/comm"), let name = text.split(separator: "\n").first
        else { return "" }
        return " (\(name))"
    }
}

/// Wall-clock milliseconds, as the kernel stamps records.
enum WallClock {
    static func milliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
