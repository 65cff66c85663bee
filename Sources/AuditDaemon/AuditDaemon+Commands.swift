import AuditLog
import AuditNetlink
import AuditProtocol
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What the daemon does for each command (signal) between receive batches, and the records and
/// state report it writes for them.
///
/// As auditd (src/auditd.c: `netlink_handler`), each signalled operation first asks the kernel who
/// sent the signal (`AUDIT_SIGNAL_INFO`); records that arrive while the answer is awaited are kept
/// and written right after it (`RecordLoop`), before the operation's effects, never in the middle
/// of the request. Then it does the work and writes its `DAEMON_*` record.
extension AuditDaemon {
    func handle(_ command: DaemonControl.Command) {
        let coalesced = control.coalesced
        if coalesced > reportedCoalesced {
            logger.notice("\(coalesced - reportedCoalesced) signals arrived while the same request was still waiting; each was folded into it")
            reportedCoalesced = coalesced
        }
        switch command {
        case .stop:
            break  // handled by the loop
        case let .reload(origin):
            reload(origin: origin)
        case let .rotate(origin):
            rotate(origin: origin)
        case let .resume(origin):
            resume(origin: origin)
        case let .reportState(origin):
            logger.info("writing the state report\(origin.map { " (\($0))" } ?? "")")
            reportState(askKernel: true)
        }
    }

    // MARK: - Who asked

    /// Who sent the signal behind `origin`, as auditd writes it, or nil when nobody can say.
    ///
    /// Registered, for the four signals the kernel remembers (and for a command without a signal,
    /// as a test sends): the kernel's answer to `AUDIT_SIGNAL_INFO`, within 3 s as auditd. In
    /// shadow mode, or for SIGINT, the kernel remembers nothing for us: what `siginfo_t` said of a
    /// sending process, completed from `/proc` the way the kernel would have.
    func sender(of origin: SignalOrigin?) -> SignalSender? {
        if registers, origin?.isRememberedByKernel ?? true {
            do {
                let info = try loop.signalInfo(timeout: .seconds(3))
                return SignalSender(info)
            } catch {
                logger.warning("the kernel did not say who sent the signal (AUDIT_SIGNAL_INFO); writing auditd's -1 fallback",
                               metadata: ["error": "\(error)"])
                return nil
            }
        }
        if let origin, origin.sentByProcess {
            return SignalSender(signalledBy: origin.pid, uid: origin.uid)
        }
        return nil
    }

    // MARK: - Operations

    /// SIGUSR1: rotate now; `DAEMON_ROTATE` is the first line of the new file. auditd rotates even
    /// when the kernel does not say who asked.
    func rotate(origin: SignalOrigin?) {
        let sender = sender(of: origin)
        let reason = origin.map { "\($0)" } ?? "request"
        logger.notice("rotating the log: \(reason)")
        loop.writer.rotate(reason: reason)
        write(.rotated(sender: sender))
        state.lastRotation = DaemonRecordStamper.wallClock().seconds
        state.lastRotationReason = reason
        reportState(askKernel: false)
    }

    /// SIGHUP: read auditd.conf again. A file that cannot be read or parsed leaves the running
    /// configuration untouched and is written as a failed `DAEMON_CONFIG`; a good one is applied
    /// and written as a successful one. When the kernel cannot say who asked, auditd does not
    /// reload at all, and neither does swift-auditd.
    func reload(origin: SignalOrigin?) {
        notifier.reloading()
        defer { reportState(askKernel: false) }
        guard let sender = sender(of: origin) else {
            logger.error("not reloading: the kernel did not say who asked (auditd refuses such a reload too)")
            write(.reconfigurationFailed(sender: nil))
            notifier.ready(status: "Reload refused: the sender is unknown; running on the old configuration")
            return
        }
        logger.notice("configuration change requested by pid=\(sender.pid) auid=\(sender.auid) subj=\(sender.context ?? "?")")
        let new: AuditdConfiguration
        do {
            let loaded = try AuditdConfiguration.read(directory: options.configurationDirectory)
            for note in loaded.notes { logger.notice("\(note)") }
            // auditd would reload its compiled defaults, moving the log to /var/log/audit; a
            // file that vanished under a running daemon is far more likely a mistake.
            guard loaded.found else {
                throw AuditDaemonError(.configuration, "\(loaded.path) is missing")
            }
            new = loaded.configuration
        } catch {
            logger.error("keeping the running configuration: \(error)")
            write(.reconfigurationFailed(sender: sender))
            notifier.ready(status: "Reload failed, running on the old configuration: \(error)")
            return
        }
        apply(new)
        write(.reconfigured(sender: sender))
        notifier.ready(status: "Reloaded auditd.conf; writing to \(configuration.logFile)")
    }

    /// SIGUSR2: resume logging after a suspension, then `DAEMON_RESUME`.
    func resume(origin: SignalOrigin?) {
        let sender = sender(of: origin)
        logger.notice("resuming logging\(origin.map { ": \($0)" } ?? "")")
        loop.writer.resume()
        loop.dispatcher.resume()
        write(.resumed(sender: sender))
        reportState(askKernel: false)
    }

    // MARK: - Records and the state report

    /// Writes one of the daemon's own records at once, through the same writer as the kernel's.
    func write(_ record: DaemonRecord) {
        let payload = stamper.payload(for: record)
        payload.withUnsafeBytes { loop.take(record.type, $0) }
        loop.dispatcher.nudge()
        state.daemonRecordsWritten += 1
        do {
            try loop.writer.flush()
        } catch {
            logger.error("cannot write \(record) to the log yet; it stays buffered", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the state report to the run directory, if the daemon keeps one. With `askKernel`,
    /// the kernel's `lost` counter is asked first (records arriving meanwhile are written after the answer).
    func reportState(askKernel: Bool) {
        guard let runDirectory = options.runDirectory else { return }
        refreshState(askKernel: askKernel)
        state.sequence += 1
        do {
            try runDirectory.writeState(state)
        } catch {
            logger.warning("cannot write the state report", metadata: ["error": "\(error)"])
        }
    }

    /// Brings `state` up to date from the loop, the writer, the disk and, with `askKernel`, the
    /// kernel's status (`lost`, the backlog and its limit; records arriving meanwhile are written
    /// after the answer).
    func refreshState(askKernel: Bool) {
        if askKernel, registers,
           let status = try? loop.status(timeout: .seconds(2)) {
            state.kernelLost = status.lost
            state.kernelBacklog = status.backlog
            state.kernelBacklogLimit = status.backlogLimit
        }
        let writer = loop.writer
        try? writer.flush()
        state.time = DaemonRecordStamper.wallClock().seconds
        state.priority = ProcessTuning.currentNice()
        state.logFile = writer.path
        state.logFormat = configuration.logFormat.rawValue
        state.logSize = writer.fileSize
        state.writingToLogs = configuration.writeLogs
        if case let .suspended(reason) = writer.suspension { state.suspension = reason } else { state.suspension = nil }
        state.rotations = writer.rotations
        state.maxLogSizeKiB = configuration.maxLogFile * 1024
        let disk = writer.diskState
        state.spaceLeftOnPartition = disk.spaceLeftOnPartition
        state.spaceLeftActionPerformed = disk.spaceLeftActionPerformed
        state.adminSpaceLeftActionPerformed = disk.adminSpaceLeftActionPerformed
        state.diskErrorDetected = disk.diskErrorDetected
        var fileSystem = statvfs()
        if statvfs(LogFile.parent(of: writer.path), &fileSystem) == 0 {
            let blockSize = UInt64(fileSystem.f_frsize)
            let total = UInt64(fileSystem.f_blocks) * blockSize
            state.freeSpaceBytes = UInt64(fileSystem.f_bavail) * blockSize
            state.freeSpaceMiB = UInt64(fileSystem.f_bavail) * blockSize / (1024 * 1024)
            state.spaceLeftMiB = configuration.spaceLeft.bytes(ofFileSystemBytes: total) / (1024 * 1024)
            state.adminSpaceLeftMiB = configuration.adminSpaceLeft.bytes(ofFileSystemBytes: total) / (1024 * 1024)
        }
        state.losses.notLogged = writer.recordsNotLogged
        state.rotatedFiles = Self.rotatedFileCount(of: writer.path)
        state.recordsReceived = loop.client.counters.records
        state.recordsWritten = writer.recordsWritten
        state.losses.diskRefused = writer.recordsDropped
        state.losses.socketOverruns = loop.client.counters.overruns
        state.losses.refusedSenders = loop.client.counters.refusedSenders
        state.losses.malformed = loop.client.counters.malformed
        state.losses.truncated = loop.client.counters.truncated
        state.plugins = loop.dispatcher.statuses
        state.remoteClients = remoteClientLines()
        state.remoteListening = listener != nil
        state.remoteRecordsByAddress = listener?.recordsByAddressAndWait() ?? [:]
        state.pluginQueueDepth = configuration.dispatcher.queueDepth
        if state.heldRecordsCollected == nil, loop.tracker?.markerSeen == true {
            state.heldRecordsCollected = loop.tracker?.collected
        }
        state.bytesWritten = writer.bytesWritten
        state.recordsReceivedByType = loop.metrics.receivedByTypeName()
        state.writeLatency = loop.metrics.writeLatency
    }

    /// `path.1`, `path.2`, … that exist, counted until the first gap.
    static func rotatedFileCount(of path: String) -> Int {
        var count = 0
        while access("\(path).\(count + 1)", F_OK) == 0 { count += 1 }
        return count
    }

    /// `uname -r`.
    static func kernelRelease() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "?" }
        return withUnsafeBytes(of: &names.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
