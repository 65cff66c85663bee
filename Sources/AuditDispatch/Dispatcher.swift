import AuditLog
import AuditProtocol
import AuditSystem
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// auditd's plugin dispatcher, as a second consumer of the record loop's output
/// (`audisp/audispd.c`, `audisp/queue.c` in audit-userspace 3.0.9 for what it mirrors).
///
/// The record loop hands each record over with `dispatch`, which copies the plugin messages into
/// every plugin's own bounded queue and returns: it never waits for a plugin. Once a batch is
/// handed over, `nudge` wakes the dispatcher's thread, which writes to the plugins without
/// blocking (poll on their sockets), restarts a plugin that exits or dies, up to `max_restarts`,
/// resending the message it missed, and applies a full queue's `overflow_action` to that plugin
/// alone. auditd keeps one queue for all plugins and its main thread sleeps while it is full, so a
/// single stalled plugin slows the audited machine (audit-userspace issue 273); here it only
/// loses its own messages, each counted.
public final class Dispatcher: @unchecked Sendable {
    private struct Shared {
        var plugins: [Plugin] = []
        var settings: DispatcherSettings
        let builder = PluginMessageBuilder()
        var handedOver = false
        var requests: [Request] = []
    }

    private enum Request { case reload(DispatcherSettings), resume, stop }

    private let shared: Mutex<Shared>
    /// Whether any plugin is configured: the record path's only cost without plugins.
    private let hasPlugins = Atomic<Bool>(false)
    private let formattedLines: Atomic<Bool>
    /// `single` and `halt` ask init once.
    private let runlevelRequested = Atomic<Bool>(false)
    /// The dispatcher's thread sleeps in poll on the read end; `nudge` writes a byte to the other.
    private let wake: (read: Descriptor, write: Descriptor)
    private let logger: Logger
    private let systemActions: any SystemActions
    private var thread: pthread_t?

    public init(settings: DispatcherSettings, systemActions: any SystemActions, logger: Logger) throws(SystemCallError) {
        shared = Mutex(Shared(settings: settings))
        formattedLines = Atomic(settings.localProtocol == .formattedLine)
        self.systemActions = systemActions
        self.logger = logger
        wake = try Descriptor.pipe(nonBlocking: true)
    }

    // MARK: - The record loop's side

    /// Whether any plugin takes records: without plugins the record loop does nothing more.
    public var isDispatching: Bool { hasPlugins.load(ordering: .relaxed) }

    /// Whether plugins get the log's lines (`log_format = ENRICHED`, or a node name) rather than
    /// the kernel's text, so the loop must hand over the formatted line.
    public var wantsFormattedLines: Bool { formattedLines.load(ordering: .relaxed) }

    /// Queues one record for every plugin. `kernelText` is the kernel's text as received, `line`
    /// the record as formatted for the log (without its newline; EOE records too, although the
    /// log does not get them); which one a plugin gets is auditd's protocol choice. `fromNetwork`:
    /// a record a remote client sent, already formatted (auditd always uses `AUDISP_PROTOCOL_VER2` for these).
    public func dispatch(type: AuditMessageType, kernelText: UnsafeRawBufferPointer, line: UnsafeRawBufferPointer,
                         fromNetwork: Bool = false) {
        guard hasPlugins.load(ordering: .relaxed) else { return }
        shared.withLock { shared in
            let version = fromNetwork ? .formattedLine : shared.settings.localProtocol
            let text = version == .kernelText ? kernelText : line
            var wantsString = false, wantsBinary = false
            for plugin in shared.plugins {
                if plugin.configuration.format == .string { wantsString = true } else { wantsBinary = true }
            }
            let plugins = shared.plugins
            let action = shared.settings.overflowAction
            if wantsString {
                shared.builder.string(type: type, text: text, protocol: version) { bytes in
                    for plugin in plugins where plugin.configuration.format == .string {
                        offer(bytes, framedLength: bytes.count, to: plugin, overflowAction: action)
                    }
                }
            }
            if wantsBinary {
                shared.builder.binary(type: type, text: text, protocol: version) { bytes, framedLength in
                    for plugin in plugins where plugin.configuration.format == .binary {
                        offer(bytes, framedLength: framedLength, to: plugin, overflowAction: action)
                    }
                }
            }
            shared.handedOver = true
        }
    }

    /// Wakes the dispatcher's thread if anything was queued since the last call: once a batch.
    public func nudge() {
        guard hasPlugins.load(ordering: .relaxed) else { return }
        let handedOver = shared.withLock { shared in
            defer { shared.handedOver = false }
            return shared.handedOver
        }
        if handedOver { signalThread() }
    }

    private func offer(_ bytes: UnsafeRawBufferPointer, framedLength: Int, to plugin: Plugin, overflowAction: OverflowAction) {
        if plugin.hasFailed || plugin.isSuspended {
            plugin.passedOver += 1
            return
        }
        if let afUnix = plugin.afUnix {
            afUnix.append(bytes, framedLength: framedLength)
            return
        }
        if !plugin.queue.append(bytes, framedLength: framedLength) { overflowed(plugin, overflowAction) }
    }

    /// A full queue (`audisp/queue.c: do_overflow_action`), for this plugin only.
    private func overflowed(_ plugin: Plugin, _ action: OverflowAction) {
        switch action {
        case .ignore:
            break
        case .syslog:
            guard plugin.overflowReports < 5 else { return }
            plugin.overflowReports += 1
            logger.error("queue to plugin \(plugin.name) (\(plugin.path)) is full - dropping event")
            if plugin.overflowReports == 5 {
                logger.error("plugin \(plugin.name) queue full reporting limit reached - ending dropped event notifications")
            }
        case .suspend:
            plugin.isSuspended = true
            logger.critical("Auditd is suspending event passing to plugin \(plugin.name) due to overflowing its queue.")
        case .single, .halt:
            guard !runlevelRequested.exchange(true, ordering: .relaxed) else { return }
            let halting = action == .halt
            logger.critical("Auditd is now \(halting ? "halting the system" : "changing the system to single user mode") due to overflowing the queue of plugin \(plugin.name)")
            systemActions.changeRunlevel(halting ? .halt : .single)
        }
    }

    // MARK: - Control

    /// Loads `plugin_dir`, starts the plugins and the dispatcher's thread. Problems with single
    /// plugins are reported and those plugins left out; the daemon goes on.
    public func start() {
        let settings = shared.withLock { $0.settings }
        let plugins = load(settings)
        shared.withLock { $0.plugins = plugins }
        hasPlugins.store(!plugins.isEmpty, ordering: .relaxed)
        if plugins.isEmpty { logger.notice("No plugins found, not dispatching events") }
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(&handle, nil, { raw in
            let dispatcher = Unmanaged<Dispatcher>.fromOpaque(raw!).takeRetainedValue()
            dispatcher.run()
            return nil
        }, context)
        if created == 0 {
            thread = handle
        } else {
            Unmanaged<Dispatcher>.fromOpaque(context).release()
            logger.error("cannot start the dispatcher's thread: \(Errno(created)); plugins get nothing")
        }
    }

    /// Re-reads `plugin_dir` with `settings` (SIGHUP): starts new and newly active plugins, stops
    /// removed and deactivated ones, restarts those whose file or program changed, and sends the
    /// others SIGHUP, as auditd does.
    public func reload(_ settings: DispatcherSettings) { post(.reload(settings)) }

    /// Lets suspended plugins have messages again (SIGUSR2, as auditd's `libdisp_resume`).
    public func resume() { post(.resume) }

    /// Writes what the plugins take within `drainTime`, then closes each plugin's socket, gives it
    /// a moment to exit, sends SIGTERM to one that does not, and reaps them all. Returns when done.
    public func stop() {
        guard let thread else { return }
        post(.stop)
        pthread_join(thread, nil)
        self.thread = nil
    }

    /// What each plugin is doing, for `status`, the state report and the stop summary.
    public var statuses: [PluginStatus] { shared.withLock { $0.plugins.map(\.status) } }

    private func post(_ request: Request) {
        shared.withLock { $0.requests.append(request) }
        signalThread()
    }

    private func signalThread() {
        var one: UInt8 = 1
        _ = write(wake.write.rawValue, &one, 1)  // a full pipe already says "wake up"
    }

    // MARK: - The dispatcher's thread

    static let drainTime = 1000  // ms: at stop, how long plugins may take to read what waits
    static let exitTime = 1000   // ms: how long a plugin may take to exit after end of file, then after SIGTERM

    private func run() {
        var stopping = false
        while !stopping {
            let (plugins, requests) = shared.withLock { shared -> ([Plugin], [Request]) in
                defer { shared.requests.removeAll() }
                return (shared.plugins, shared.requests)
            }
            for request in requests {
                switch request {
                case .reload(let settings): reconcile(settings)
                case .resume: shared.withLock { $0.plugins.forEach { $0.isSuspended = false } }
                case .stop: stopping = true
                }
            }
            if stopping { break }
            if !requests.isEmpty { continue }
            waitAndServe(plugins, timeout: -1)
        }
        shutDown()
    }

    /// One poll over the wake-up descriptor and every plugin, then what it says: write, accept,
    /// restart. `timeout` in milliseconds, -1 for none.
    private func waitAndServe(_ plugins: [Plugin], timeout: Int32) {
        var descriptors = [pollfd(fd: wake.read.rawValue, events: Int16(POLLIN), revents: 0)]
        for plugin in plugins {
            if let process = plugin.process {
                descriptors.append(pollfd(fd: process.socket.rawValue, events: plugin.queue.isEmpty ? 0 : Int16(POLLOUT), revents: 0))
                descriptors.append(pollfd(fd: process.exitDescriptor.rawValue, events: Int16(POLLIN), revents: 0))
            }
            if let afUnix = plugin.afUnix {
                descriptors.append(pollfd(fd: afUnix.listener.rawValue, events: Int16(POLLIN), revents: 0))
                for reader in afUnix.connected where !reader.queue.isEmpty {
                    descriptors.append(pollfd(fd: reader.socket.rawValue, events: Int16(POLLOUT), revents: 0))
                }
            }
        }
        let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
        guard ready > 0 else { return }
        if descriptors[0].revents != 0 {
            var bytes = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            while withUnsafeMutableBytes(of: &bytes, { read(wake.read.rawValue, $0.baseAddress, $0.count) }) > 0 {}
        }
        let events = Dictionary(descriptors.dropFirst().map { ($0.fd, $0.revents) }, uniquingKeysWith: { $0 | $1 })
        for plugin in plugins {
            if let process = plugin.process {
                let exited = (events[process.exitDescriptor.rawValue] ?? 0) != 0
                let hungUp = (events[process.socket.rawValue] ?? 0) & Int16(POLLHUP | POLLERR) != 0
                if exited || hungUp || !FramedWriter.drain(plugin.queue, to: process.socket.rawValue, offset: &plugin.offset) {
                    lost(plugin, exited: exited)
                }
            }
            if let afUnix = plugin.afUnix {
                if (events[afUnix.listener.rawValue] ?? 0) != 0 { afUnix.acceptReaders() }
                afUnix.writeReaders()
            }
        }
    }

    /// A plugin's program exited, died, or stopped reading: reap it, and start it again (with the
    /// message it missed first in its queue) until it has done so more than `max_restarts` times.
    private func lost(_ plugin: Plugin, exited: Bool) {
        guard let process = plugin.process else { return }
        if !exited { end(process) }
        process.closeSocket()
        process.reap()
        let maxRestarts = shared.withLock { shared -> Int in
            plugin.process = nil
            plugin.restarts += 1
            return shared.settings.maxRestarts
        }
        logger.error("plugin \(plugin.path) terminated unexpectedly")
        guard plugin.restarts <= maxRestarts else {
            logger.error("plugin \(plugin.path) has exceeded max_restarts")
            shared.withLock { _ in
                plugin.hasFailed = true
                plugin.passedOver += UInt64(plugin.queue.removeAll())
            }
            return
        }
        do {
            try plugin.start()
            logger.notice("plugin \(plugin.path) was restarted")
        } catch {
            logger.error("Error running \(plugin.path) (\(error)) continuing without it")
            shared.withLock { _ in plugin.hasFailed = true }
        }
    }

    /// SIGTERM, then SIGKILL if it will not go; waits on its exit descriptor, not in a sleep.
    private func end(_ process: PluginProcess) {
        process.signal(SIGTERM)
        if !waitForExit(process, milliseconds: Int32(Self.exitTime)) {
            process.signal(SIGKILL)
        }
    }

    private func waitForExit(_ process: PluginProcess, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: process.exitDescriptor.rawValue, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    private func load(_ settings: DispatcherSettings) -> [Plugin] {
        let directory = PluginDirectory.load(settings.pluginDirectory)
        for problem in directory.problems { logger.error("Skipping plugin: \(problem)") }
        return directory.active.compactMap { entry in startPlugin(entry, settings) }
    }

    private func startPlugin(_ entry: PluginDirectory.Entry, _ settings: DispatcherSettings) -> Plugin? {
        do {
            let plugin = try Plugin(entry: entry, settings: settings)
            try plugin.start()
            logger.info("plugin \(entry.configuration.name) started: \(plugin.path)\(plugin.process.map { " (pid \($0.pid))" } ?? "")")
            return plugin
        } catch {
            logger.error("Error running \(entry.configuration.path ?? entry.configuration.name) (\(error)) continuing without it")
            return nil
        }
    }

    /// `audisp/audispd.c: reconfigure`: matched by file name.
    private func reconcile(_ settings: DispatcherSettings) {
        let directory = PluginDirectory.load(settings.pluginDirectory)
        for problem in directory.problems { logger.error("Skipping plugin: \(problem)") }
        let old = shared.withLock { $0.plugins }
        var kept: [Plugin] = []
        for entry in directory.active {
            if let running = old.first(where: { $0.name == entry.configuration.name }),
               running.entry == entry, !running.hasFailed {
                running.process?.signal(SIGHUP)
                kept.append(running)
            } else {
                if let running = old.first(where: { $0.name == entry.configuration.name }) {
                    logger.info("Restarting \(running.path) since its configuration or program changed")
                    retire(running)
                }
                if let started = startPlugin(entry, settings) { kept.append(started) }
            }
        }
        for plugin in old where !kept.contains(where: { $0 === plugin }) && !directory.active.contains(where: { $0.configuration.name == plugin.name }) {
            logger.info("Terminating \(plugin.path) because its now inactive")
            retire(plugin)
        }
        shared.withLock {
            $0.plugins = kept
            $0.settings = settings
        }
        formattedLines.store(settings.localProtocol == .formattedLine, ordering: .relaxed)
        runlevelRequested.store(false, ordering: .relaxed)
        hasPlugins.store(!kept.isEmpty, ordering: .relaxed)
    }

    /// Stops a plugin for good: end of file, a moment to exit, SIGTERM, reaped.
    private func retire(_ plugin: Plugin) {
        if let process = plugin.process {
            process.closeSocket()
            if !waitForExit(process, milliseconds: Int32(Self.exitTime)) { end(process) }
            process.reap()
        }
        plugin.afUnix?.close()
        shared.withLock { _ in plugin.process = nil }
    }

    /// The stop: what waits is written within `drainTime`, then every plugin is retired.
    private func shutDown() {
        let plugins = shared.withLock { $0.plugins }
        let deadline = MonotonicClock.milliseconds() + Int64(Self.drainTime)
        while plugins.contains(where: { $0.process != nil && !$0.queue.isEmpty }) {
            let left = deadline - MonotonicClock.milliseconds()
            guard left > 0 else { break }
            waitAndServe(plugins, timeout: Int32(left))
        }
        for plugin in plugins { retire(plugin) }
        for plugin in plugins where !plugin.queue.isEmpty {
            logger.warning("plugin \(plugin.name) did not read \(plugin.queue.counts.queued) messages before the stop")
        }
    }
}
