import AuditSystem
import AuditDispatch
import AuditLog
import AuditNetlink
import AuditProtocol
import Logging
import RemoteProtocol

/// The record path and its one owner: the kernel client, the log writer, the count of the records
/// the kernel held before registration, the control queue, and when to write (`WriteSchedule`,
/// with the state of failed writes).
///
/// One thread runs it. Records go one way: `recvmmsg` into the client's batch, the client hands
/// each to `accept` (given to it once), the writer formats it into its buffer, the dispatcher (when
/// plugins are configured) copies the same line into each plugin's queue, and the schedule says
/// when the buffer becomes one `write`. Commands wait in `control` and run between batches;
/// requests to the kernel go through `status`, `set` and `signalInfo`, which hand the records that
/// arrived during the request to the writer only after the answer.
final class RecordLoop {
    let client: AuditClient
    let writer: AuditLogWriter
    let control: DaemonControl
    /// The plugins' dispatcher: a second consumer of every record, which never makes the loop wait.
    let dispatcher: Dispatcher
    let logger: Logger
    private var schedule: WriteSchedule
    /// Counts the held backlog from the registration until it is reported.
    private(set) var tracker: HeldBacklogTracker?
    private var isTracking = false
    /// Records by type and the write latency, for the metrics.
    private(set) var metrics = RecordMetrics()
    /// When the first record now waiting in the writer's buffer was received; nil: none waits.
    private var batchStartedAt: Int64?
    /// Work done every `interval` nanoseconds between batches (the metrics textfile); nil: none.
    var periodic: (interval: Int64, action: () -> Void)?
    private var periodicDueAt: Int64 = 0

    // The central server's side (nil inbox: no listener). See RecordLoop+Remote.swift.
    /// What the listener hands over; nil when `tcp_listen_port` is not set.
    var remoteInbox: RemoteInbox?
    /// Records appended to the log and waiting for their write before the ACK.
    var acknowledgements = RemoteAcknowledgements()
    /// `distribute_network`: clients' records go to the plugins too.
    var distributeNetwork = false
    /// Writes a DAEMON_ACCEPT or DAEMON_CLOSE as the daemon's own record (the daemon's stamper).
    var writeListenerRecord: (ListenerRecord) -> Void = { _ in }
    /// False with `local_events = no`: the socket is a silent pair, not received from each turn
    /// (a `recvmmsg` per client record saved); it is still polled, and never becomes readable.
    var readsKernel = true
    /// Reused for each batch taken from the inbox.
    var remoteBatch: [RemoteInbox.Entry] = []
    /// At most this many remote entries per turn of the loop: the kernel socket is read again
    /// between batches, so a flood of remote records never holds the local ones back.
    static let remoteBatchLimit = 256

    init(socket: AuditSocket, writer: AuditLogWriter, control: DaemonControl, dispatcher: Dispatcher,
         batchWindow: Duration, logger: Logger) {
        client = AuditClient(socket: socket, logger: logger)
        self.writer = writer
        self.control = control
        self.dispatcher = dispatcher
        self.logger = logger
        schedule = WriteSchedule(window: batchWindow)
        // The client lives no longer than the loop that owns it.
        client.handleRecords { [unowned self] type, payload in accept(type, payload) }
    }

    var socket: AuditSocket { client.socket }

    /// Each record the kernel sent: counted while the held backlog is open, then taken.
    private func accept(_ type: AuditMessageType, _ payload: UnsafeRawBufferPointer) {
        // The client hands over `EOE` too, which the log does not take: the plugins do.
        let logged = type.isLogged
        if isTracking, logged { tracker!.observe(type: type, payload: payload) }
        if logged { metrics.received(type) }
        take(type, payload, forTheLog: logged)
    }

    /// One record, the kernel's or the daemon's own: buffered for the log when it is `forTheLog`,
    /// then handed to the plugins, with the line the log got when they want lines.
    func take(_ type: AuditMessageType, _ payload: UnsafeRawBufferPointer, forTheLog: Bool = true) {
        let line = forTheLog ? writer.append(type: type, payload: payload) : nil
        guard dispatcher.isDispatching else { return }
        if dispatcher.wantsFormattedLines {
            dispatcher.dispatch(type: type, kernelText: payload, line: line ?? writer.formatLine(type: type, payload: payload))
        } else {
            dispatcher.dispatch(type: type, kernelText: payload, line: payload)
        }
    }

    // MARK: - The held backlog

    /// Starts counting what arrives as the kernel's held backlog (just before `AUDIT_SET pid`).
    func startCountingHeldBacklog(pid: UInt32, registeredAt: UInt64) {
        tracker = HeldBacklogTracker(pid: pid, registeredAt: registeredAt)
        isTracking = true
    }

    /// Stops counting: the count is reported.
    func stopCountingHeldBacklog() { isTracking = false }

    // MARK: - Requests to the kernel

    /// The kernel's audit status; records that arrived meanwhile are buffered after the answer.
    func status(timeout: Duration = .seconds(5)) throws(AuditClientError) -> AuditStatus {
        defer { client.handleDeferredRecords() }
        return try client.status(timeout: timeout)
    }

    /// Changes the kernel's status and waits for its ACK; records that arrived meanwhile are
    /// buffered after it.
    func set(_ status: AuditStatus, timeout: Duration = .seconds(5)) throws(AuditClientError) {
        defer { client.handleDeferredRecords() }
        try client.set(status, timeout: timeout)
    }

    /// Who last signalled the daemon; records that arrived meanwhile are buffered after the answer.
    func signalInfo(timeout: Duration = .seconds(3)) throws(AuditClientError) -> SignalInfo {
        defer { client.handleDeferredRecords() }
        return try client.signalInfo(timeout: timeout)
    }

    // MARK: - Running

    /// Receives and writes until a stop command, or until a fake kernel closes its end; returns the
    /// stop's origin (nil: not a signal). Other commands go to `handle`, between batches, after
    /// what waited in the buffer is written; `heldBacklogCounted` is called once, when the held
    /// backlog is complete (its marker came) or a second after the start.
    func run(countsHeldBacklog: Bool, heldBacklogCounted: () -> Void,
             handle: (DaemonControl.Command) -> Void) throws(AuditDaemonError) -> SignalOrigin? {
        var heldReported = !countsHeldBacklog
        let heldReportDeadline = MonotonicClock.nanoseconds() + 1_000_000_000

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
                    if writer.hasPendingRecords { write() }
                    handle(command)
                }
            }
            let result: AuditSocket.ReceiveResult
            do {
                result = readsKernel ? try client.receiveAvailable() : .empty
            } catch {
                logger.error("receive failed; going on", metadata: ["error": "\(error)"])
                result = .empty
            }
            if result == .closed {
                logger.warning("the kernel's end of the socket closed; stopping")
                return nil
            }
            let remoteWaiting = remoteInbox == nil ? false : takeRemoteRecords()
            dispatcher.nudge()
            let now = MonotonicClock.nanoseconds()
            if writer.hasPendingRecords {
                schedule.recordsBuffered(at: now)
                if batchStartedAt == nil { batchStartedAt = now }
            }
            if !heldReported, tracker?.markerSeen == true || now >= heldReportDeadline {
                heldReported = true
                stopCountingHeldBacklog()
                heldBacklogCounted()
            }
            // A full batch, or an overflow, says more is waiting: receive again before writing.
            let drained: Bool
            switch result {
            case let .received(count): drained = count < client.batch.slotCount && !remoteWaiting
            case .overrun: drained = false
            case .empty, .closed: drained = !remoteWaiting
            }
            if schedule.shouldWrite(at: now, socketDrained: drained) || clientsWait(drained: drained) { write() }
            // Answers records written by a write outside the loop's (a daemon record's).
            if !acknowledgements.isEmpty { acknowledgeWritten() }
            runPeriodicIfDue(at: now)
            if !drained || remoteInbox?.isEmpty == false { continue }
            // The socket is drained for now: wait for more, for a command, or for a write that is
            // due (the end of the gap after the last write, the window, a retry after a failure).
            var timeout = schedule.nanosecondsUntilDue(at: now) ?? -1
            if !heldReported { timeout = timeout < 0 ? heldReportDeadline - now : min(timeout, heldReportDeadline - now) }
            if periodic != nil { timeout = timeout < 0 ? max(0, periodicDueAt - now) : min(timeout, max(0, periodicDueAt - now)) }
            // Records held for the gap after the last write: sleep it out without watching the
            // socket, and take what came meanwhile in one receive when it ends.
            let holding = schedule.isWaitingOutGap(at: now)
            let ready: (socket: Bool, other: Bool)
            do {
                ready = try socket.waitReadable(timeoutNanoseconds: max(timeout, -1), alsoWatching: control.wakeDescriptor,
                                                watchingSocket: !holding)
            } catch {
                throw AuditDaemonError(.startFailure, "cannot wait for records", cause: error)
            }
            woken = ready.other
            if holding { continue }
            // A due write happens whatever the socket's state; one held back by the gap happens
            // now unless more records came to join it.
            if schedule.shouldWrite(at: MonotonicClock.nanoseconds(), socketDrained: !ready.socket) { write() }
        }
    }

    /// Runs the periodic work when it is due, and says when it is due next.
    private func runPeriodicIfDue(at now: Int64) {
        guard let periodic, now >= periodicDueAt else { return }
        periodicDueAt = now + periodic.interval
        periodic.action()
    }

    /// Whether clients wait for the ACK of a buffered record while nothing else is coming: then the
    /// write is not held for the gap after the last one. The gap gathers a stream that keeps
    /// coming; audisp-remote sends its next record only after the ACK, so holding the write would
    /// only add the gap to every record's round trip (1,600 records/s instead of the listener's
    /// 12,000, `make bench-remote`). After a failed write the retry still waits.
    private func clientsWait(drained: Bool) -> Bool {
        drained && !acknowledgements.isEmpty && writer.hasPendingRecords && schedule.failures.count == 0
    }

    /// Writes what is buffered. A failure keeps the bytes for the next attempt, which waits longer
    /// after each failure (up to a second), so a disk that refuses writes is neither hammered nor
    /// allowed to flood the diagnostics: the first few failures are reported, then every power of two.
    func write() {
        do {
            try writer.flush()
            if !acknowledgements.isEmpty { acknowledgeWritten() }
            let now = MonotonicClock.nanoseconds()
            if let start = batchStartedAt {
                metrics.wrote(afterNanoseconds: now - start)
                batchStartedAt = nil
            }
            let failed = schedule.wrote(at: now)
            if failed > 0 {
                logger.notice("the audit log takes writes again", metadata: ["failed_writes": "\(failed)"])
            }
        } catch {
            // The writer ran disk_full_action or disk_error_action and said what auditd says
            // (or nothing, for `ignore`); here only the next attempt is scheduled.
            schedule.writeFailed(at: MonotonicClock.nanoseconds())
            let failures = schedule.failures
            if failures.shouldReport {
                logger.debug("cannot write the audit log; keeping the records in memory and trying again",
                             metadata: ["error": "\(error)", "failed_writes": "\(failures.count)",
                                        "retry_in_ms": "\(failures.retryDelayMilliseconds)"])
            }
        }
    }

    // MARK: - Stopping

    /// Receives until the socket is empty and the kernel's queue for us is empty too (at most
    /// two seconds, in case audited processes keep producing).
    func emptyKernelQueue() {
        let giveUpAt = MonotonicClock.milliseconds() + 2000
        while MonotonicClock.milliseconds() < giveUpAt {
            drain(quietFor: 0)
            guard let status = try? status(timeout: .seconds(1)) else { return }
            if status.backlog == 0 { return }
            _ = try? socket.waitReadable(timeoutMilliseconds: 10)
        }
        logger.warning("the kernel's queue did not empty within 2 s; unregistering anyway")
    }

    /// Receives until the socket has been quiet for `quietFor` milliseconds, or two seconds have passed.
    func drain(quietFor: Int32 = 100) {
        let giveUpAt = MonotonicClock.milliseconds() + 2000
        while MonotonicClock.milliseconds() < giveUpAt {
            guard let result = try? client.receiveAvailable() else { return }
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
}
