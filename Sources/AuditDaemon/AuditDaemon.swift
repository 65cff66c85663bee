import AuditLog
import AuditNetlink
import AuditProtocol
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The audit daemon: registers with the kernel, then receives records and writes them to the log
/// until told to stop, and stops without losing what it received.
///
/// One thread runs the whole record path: a batched receive, formatting into one buffer, and one
/// `write` per batch window. Commands (stop, and what signals ask for) arrive through
/// `DaemonControl` and are handled between batches.
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
    /// Writes the ENRICHED part of each line when `log_format = ENRICHED`; nil for the default,
    /// names from the system's account databases. Tests pass one with names of their own.
    let enricher: RecordEnricher?
    /// What the disk actions `exec`, `single` and `halt` run; tests replace it.
    let systemActions: any SystemActions

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
    }

    /// Runs until a `.stop` command, or until a fake kernel closes its end.
    ///
    /// The order is auditd's (src/auditd.c: `main`): the PID file, the log, `DAEMON_START`, then
    /// the kernel: enable, register. A refusal there is written as `DAEMON_ABORT` before the error
    /// is thrown (exit 1). systemd hears `READY=1` only once the kernel acknowledged the registration.
    public func run() throws(AuditDaemonError) -> Summary {
        state.pid = Int32(bitPattern: processID)
        state.startedAt = DaemonRecordStamper.wallClock().seconds
        state.mode = socket.kind == .multicast ? "multicast" : "registered"
        if let runDirectory = options.runDirectory {
            try runDirectory.prepare()
            try runDirectory.writePIDFile(pid: Int32(bitPattern: processID))
        }
        defer {
            options.runDirectory?.removePIDFile(ifNaming: Int32(bitPattern: processID))
            options.runDirectory?.removeState()
        }
        let writer = try openLog()
        let client = AuditClient(socket: socket, logger: logger)
        let sink = RecordSink(writer: writer)
        write(.start(version: SwiftAuditdVersion.current,
                     format: configuration.writeLogs ? configuration.logFormat.rawValue : "nolog",
                     kernel: Self.kernelRelease(), identity: identity), to: sink)
        let granted = socket.setReceiveBufferSize(options.receiveBufferSize)
        var summary = Summary()

        if socket.kind != .multicast {
            let status: AuditStatus
            do {
                status = try register(client: client, sink: sink)
            } catch let failure {
                abort(failure, sink: sink)
                throw failure.error
            }
            summary.lostAtRegistration = status.lost
            state.kernelLostAtRegistration = status.lost
            notifier.ready(status: "Registered as the kernel's audit daemon (pid \(processID)); writing to \(configuration.logFile)")
        } else {
            logger.notice("listening on the read-only multicast group (shadow mode): not registered, no held backlog")
            // Shadow mode changes nothing in the kernel, so it cannot switch auditing on; say so
            // when it is off, or the log would stay empty without a word.
            if let status = try? client.status(timeout: .seconds(2), onRecord: sink.accept), status.enabled == 0 {
                logger.warning("auditing is off (enabled=0): no records will arrive until it is switched on (auditctl -e 1)")
            }
            notifier.ready(status: "Shadow mode: reading the kernel's multicast group; writing to \(configuration.logFile)")
        }
        logger.notice("writing records to \(configuration.logFile)",
                      metadata: ["receive_buffer": "\(granted)", "pid": "\(processID)"])
        reportState(client: client, sink: sink, askKernel: false)

        let stopOrigin = try receiveUntilStopped(client: client, sink: sink)
        try stop(client: client, sink: sink, origin: stopOrigin, registered: socket.kind != .multicast, summary: &summary)

        summary.receive = client.counters
        summary.recordsWritten = sink.writer.recordsWritten + sink.retired.written
        summary.recordsDropped = sink.writer.recordsDropped + sink.retired.dropped
        summary.recordsNotLogged = sink.writer.recordsNotLogged + sink.writer.pendingRecords
        summary.daemonRecordsWritten = state.daemonRecordsWritten
        summary.heldRecordsCollected = sink.tracker?.collected
        logSummary(summary)
        return summary
    }

    // MARK: - Registration

    /// `AUDIT_GET`, the `-s` choice, then `AUDIT_SET pid` with its ACK. Every record that arrives
    /// from here on is written; none is read and thrown away (auditd 3.0.9 discards one).
    private func register(client: AuditClient, sink: RecordSink) throws(StartFailure) -> AuditStatus {
        var status: AuditStatus
        do {
            status = try client.status(onRecord: sink.accept)
        } catch {
            throw StartFailure(.setEnable, kernelError(error, doing: "ask the kernel for its audit status (AUDIT_GET)"))
        }
        do {
            try applyStartupState(to: &status, client: client, sink: sink)
        } catch {
            throw StartFailure(.setEnable, error)
        }
        do {
            try registerPID(status: status, client: client, sink: sink)
        } catch {
            throw StartFailure(.setPID, error)
        }
        return status
    }

    /// A start that failed at the kernel: what failed, for `DAEMON_ABORT`, and the error.
    struct StartFailure: Error {
        let operation: DaemonRecord.AbortOperation
        let error: AuditDaemonError
        init(_ operation: DaemonRecord.AbortOperation, _ error: AuditDaemonError) {
            self.operation = operation
            self.error = error
        }
    }

    /// Writes `DAEMON_ABORT` and syncs, before the error ends the process (auditd's order).
    private func abort(_ failure: StartFailure, sink: RecordSink) {
        write(.abort(failure.operation, identity: identity), to: sink)
        do {
            try sink.writer.flushAndSync()
        } catch {
            logger.error("could not write DAEMON_ABORT to the log", metadata: ["error": "\(error)"])
        }
    }

    private func registerPID(status: AuditStatus, client: AuditClient, sink: RecordSink) throws(AuditDaemonError) {

        let registeredAt = WallClock.milliseconds()
        sink.tracker = HeldBacklogTracker(pid: processID, registeredAt: registeredAt)
        do {
            try client.set(AuditStatus(mask: .pid, pid: processID), onRecord: sink.accept)
        } catch {
            if case let .refused(_, code) = error, code == EEXIST {
                let holder = (try? client.status(onRecord: sink.accept))?.pid ?? status.pid
                throw AuditDaemonError(
                    .startFailure,
                    "another audit daemon is registered with the kernel: pid \(holder)\(Self.commandName(of: holder)); "
                        + "stop it first (swift-auditd never takes over a live daemon), or run with --multicast beside it")
            }
            throw kernelError(error, doing: "register as the audit daemon (AUDIT_SET pid)")
        }
        logger.notice("registered with the kernel as its audit daemon",
                      metadata: ["pid": "\(processID)", "enabled": "\(status.enabled)",
                                 "backlog_limit": "\(status.backlogLimit)", "lost": "\(status.lost)"])
        if let commandLine = kernelCommandLine, !commandLine.holdsRecordsForDaemon {
            logger.notice("""
                the kernel was not booted with audit=1, so it held no records for a daemon before this one \
                registered; to keep the records of early boot, add 'audit=1 audit_backlog_limit=8192' to the \
                kernel command line
                """)
        } else if status.lost > 0 {
            reportLostBeforeRegistration(status)
        }
    }

    /// The kernel's `lost` counter is the only trace of an overflow of its hold queue: the console
    /// message is rate-limited (`audit_log_lost`, kernel/audit.c), so say it here, with the number.
    private func reportLostBeforeRegistration(_ status: AuditStatus) {
        let metadata: Logger.Metadata = ["lost": "\(status.lost)", "backlog_limit": "\(status.backlogLimit)"]
        if kernelCommandLine?.holdsRecordsForDaemon == true {
            logger.warning("""
                the kernel's hold queue overflowed before registration: the kernel lost \(status.lost) records \
                (it holds at most audit_backlog_limit=\(status.backlogLimit) for a daemon that has not started); \
                to keep them all, add audit_backlog_limit=8192 to the kernel command line
                """, metadata: metadata)
        } else {
            logger.warning("""
                the kernel lost \(status.lost) records before this daemon registered (its lost counter since boot); \
                a larger audit_backlog_limit (now \(status.backlogLimit)) keeps more
                """, metadata: metadata)
        }
    }

    private func applyStartupState(to status: inout AuditStatus, client: AuditClient, sink: RecordSink) throws(AuditDaemonError) {
        let wanted: UInt32
        switch options.startupState {
        case .nochange: return
        case .enable: wanted = 1
        case .disable: wanted = 0
        }
        if status.enabled == 2 {
            logger.notice("auditing is locked (enabled=2) until reboot; leaving it as it is")
            return
        }
        guard status.enabled != wanted else { return }
        do {
            try client.set(AuditStatus(mask: .enabled, enabled: wanted), onRecord: sink.accept)
        } catch {
            throw kernelError(error, doing: "set the kernel's audit enabled flag to \(wanted) (AUDIT_SET enabled)")
        }
        status.enabled = wanted
    }

    private func kernelError(_ error: AuditClientError, doing what: String) -> AuditDaemonError {
        if case let .refused(_, code) = error {
            switch code {
            case EPERM, EACCES:
                return AuditDaemonError(
                    .insufficientPrivilege,
                    "not allowed to \(what): an audit daemon needs root (CAP_AUDIT_CONTROL) in the initial pid namespace",
                    cause: error)
            case ECONNREFUSED:
                return AuditDaemonError(
                    .insufficientPrivilege,
                    "the kernel refuses audit requests from this user namespace; an audit daemon must run in the initial namespaces",
                    cause: error)
            default:
                break
            }
        }
        return AuditDaemonError(.startFailure, "cannot \(what)", cause: error)
    }

    // MARK: - The record path

    /// Receives and writes until a stop; returns where the stop came from (nil: not a signal).
    ///
    /// What a receive brought is written once the socket is drained, or when the batch window
    /// closes while records keep coming (`WriteSchedule`).
    private func receiveUntilStopped(client: AuditClient, sink: RecordSink) throws(AuditDaemonError) -> SignalOrigin? {
        var schedule = WriteSchedule(windowMilliseconds: options.batchWindow.milliseconds)
        var heldReported = socket.kind == .multicast
        let heldReportDeadline = MonotonicClock.now() + 1000

        // The pipe polled readable: empty it even when the command was already taken.
        var woken = true
        while true {
            if woken || control.hasCommands {
                woken = false
                for command in control.takeAll() {
                    if case let .stop(reason, origin) = command {
                        logger.notice("stopping: \(reason)")
                        return origin
                    }
                    // Whatever waits in the buffer belongs before the command's effects.
                    if sink.writer.hasPendingRecords { write(sink.writer, &schedule) }
                    handle(command, client: client, sink: sink)
                }
            }
            let result: AuditSocket.ReceiveResult
            do {
                result = try client.receiveAvailable(onRecord: sink.accept)
            } catch {
                logger.error("receive failed; going on", metadata: ["error": "\(error)"])
                result = .empty
            }
            if result == .closed {
                logger.warning("the kernel's end of the socket closed; stopping")
                return nil
            }
            let now = MonotonicClock.now()
            if sink.writer.hasPendingRecords { schedule.recordsBuffered(at: now) }
            if !heldReported, sink.tracker?.markerSeen == true || now >= heldReportDeadline {
                reportHeldBacklog(sink.tracker)
                sink.isTracking = false
                heldReported = true
                state.heldRecordsCollected = sink.tracker?.collected
                notifier.status("Writing to \(configuration.logFile); collected \(sink.tracker?.collected ?? 0) records "
                    + "the kernel held before registration")
                reportState(client: client, sink: sink, askKernel: false)
            }
            // A full batch, or an overflow, says more is waiting: receive again before writing.
            let drained: Bool
            switch result {
            case let .received(count): drained = count < client.batch.slotCount
            case .overrun: drained = false
            case .empty, .closed: drained = true
            }
            if schedule.shouldWrite(at: now, socketDrained: drained) { write(sink.writer, &schedule) }
            if !drained { continue }
            // The socket is drained for now: wait for more, for a command, or for a write that is due
            // (a retry after a failed write).
            var timeout = schedule.millisecondsUntilDue(at: now) ?? -1
            if !heldReported { timeout = timeout < 0 ? heldReportDeadline - now : min(timeout, heldReportDeadline - now) }
            let ready: (socket: Bool, other: Bool)
            do {
                ready = try socket.waitReadable(timeoutMilliseconds: Int32(clamping: max(timeout, -1)),
                                                alsoWatching: control.wakeDescriptor)
            } catch {
                throw AuditDaemonError(.startFailure, "cannot wait for records", cause: error)
            }
            woken = ready.other
            // A due write happens whatever the socket's state.
            if schedule.shouldWrite(at: MonotonicClock.now(), socketDrained: false) { write(sink.writer, &schedule) }
        }
    }

    /// Writes what is buffered. A failure keeps the bytes for the next attempt, which waits longer
    /// after each failure (up to a second), so a disk that refuses writes is neither hammered nor
    /// allowed to flood the diagnostics: the first few failures are reported, then every power of two.
    private func write(_ writer: AuditLogWriter, _ schedule: inout WriteSchedule) {
        do {
            try writer.flush()
            let failed = schedule.wrote()
            if failed > 0 {
                logger.notice("the audit log takes writes again", metadata: ["failed_writes": "\(failed)"])
            }
        } catch {
            // The writer ran disk_full_action or disk_error_action and said what auditd says
            // (or nothing, for `ignore`); here only the next attempt is scheduled.
            schedule.writeFailed(at: MonotonicClock.now())
            let failures = schedule.failures
            if failures.shouldReport {
                logger.debug("cannot write the audit log; keeping the records in memory and trying again",
                             metadata: ["error": "\(error)", "failed_writes": "\(failures.count)",
                                        "retry_in_ms": "\(failures.retryDelayMilliseconds)"])
            }
        }
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
    private func stop(client: AuditClient, sink: RecordSink, origin: SignalOrigin?, registered: Bool,
                      summary: inout Summary) throws(AuditDaemonError) {
        notifier.stopping(status: "Stopping\(origin.map { " (\($0))" } ?? ""): writing everything the kernel sent")
        // Asked first, as auditd, while the kernel still holds the sender; records that arrive
        // meanwhile are written.
        let sender = sender(of: origin, client: client, sink: sink)
        if registered {
            emptyKernelQueue(client: client, sink: sink)
            do {
                try client.set(AuditStatus(mask: .pid, pid: 0), timeout: .seconds(2), onRecord: sink.accept)
            } catch {
                logger.error("could not unregister from the kernel", metadata: ["error": "\(error)"])
            }
        }
        drain(client: client, sink: sink)
        if registered {
            summary.lostAtStop = (try? client.status(timeout: .seconds(2), onRecord: sink.accept))?.lost
            drain(client: client, sink: sink)
        }
        // The last line: every record received is above it.
        write(.end(sender: sender), to: sink)
        do {
            try sink.writer.flushAndSync()
        } catch {
            throw AuditDaemonError(.startFailure, "could not write the last records to the log", cause: error)
        }
    }

    /// Receives until the socket is empty and the kernel's queue for us is empty too.
    private func emptyKernelQueue(client: AuditClient, sink: RecordSink) {
        let giveUpAt = MonotonicClock.now() + 2000
        while MonotonicClock.now() < giveUpAt {
            drain(client: client, sink: sink, quietFor: 0)
            guard let status = try? client.status(timeout: .seconds(1), onRecord: sink.accept) else { return }
            if status.backlog == 0 { return }
            _ = try? socket.waitReadable(timeoutMilliseconds: 10)
        }
        logger.warning("the kernel's queue did not empty within 2 s; unregistering anyway")
    }

    /// Receives until the socket has been quiet for `quietFor` milliseconds, or two seconds have passed.
    private func drain(client: AuditClient, sink: RecordSink, quietFor: Int32 = 100) {
        let giveUpAt = MonotonicClock.now() + 2000
        while MonotonicClock.now() < giveUpAt {
            guard let result = try? client.receiveAvailable(onRecord: sink.accept) else { return }
            switch result {
            case .received, .overrun:
                continue
            case .closed:
                return
            case .empty:
                guard let ready = try? socket.waitReadable(timeoutMilliseconds: quietFor), ready.socket else { return }
            }
        }
    }

    private func logSummary(_ summary: Summary) {
        var metadata: Logger.Metadata = [
            "received": "\(summary.receive.records)", "written": "\(summary.recordsWritten)",
            "daemon_records": "\(summary.daemonRecordsWritten)",
            "dropped": "\(summary.recordsDropped)", "refused_senders": "\(summary.receive.refusedSenders)",
            "malformed": "\(summary.receive.malformed)", "enobufs": "\(summary.receive.overruns)",
        ]
        if let held = summary.heldRecordsCollected { metadata["held_collected"] = "\(held)" }
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

/// Where each received record goes: the held-backlog count while it is open, then the writer.
final class RecordSink {
    /// The log writer; a reload that moves the log replaces it.
    var writer: AuditLogWriter
    /// What writers replaced before this one wrote and dropped.
    var retired = (written: UInt64(0), dropped: UInt64(0))
    var tracker: HeldBacklogTracker? { didSet { isTracking = tracker != nil } }
    /// Whether records still go through the tracker: only until the held backlog is reported.
    var isTracking = false

    init(writer: AuditLogWriter) { self.writer = writer }

    func accept(_ type: AuditMessageType, _ payload: UnsafeRawBufferPointer) {
        if isTracking { tracker!.observe(type: type, payload: payload) }
        writer.append(type: type.rawValue, payload: payload)
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
