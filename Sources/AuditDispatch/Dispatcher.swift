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
    struct Shared {
        var plugins: [Plugin] = []
        var settings: DispatcherSettings
        let builder = PluginMessageBuilder()
        var handedOver = false
        var requests: [Request] = []
    }

    enum Request { case reload(DispatcherSettings), resume, stop }

    let shared: Mutex<Shared>
    /// Whether any plugin is configured: the record path's only cost without plugins.
    let hasPlugins = Atomic<Bool>(false)
    let formattedLines: Atomic<Bool>
    /// `single` and `halt` ask init once.
    let runlevelRequested = Atomic<Bool>(false)
    /// The dispatcher's thread sleeps in poll on the read end; `nudge` writes a byte to the other.
    let wake: (read: Descriptor, write: Descriptor)
    let logger: Logger
    let systemActions: any SystemActions
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

    func offer(_ bytes: UnsafeRawBufferPointer, framedLength: Int, to plugin: Plugin, overflowAction: OverflowAction) {
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
    func overflowed(_ plugin: Plugin, _ action: OverflowAction) {
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

    func post(_ request: Request) {
        shared.withLock { $0.requests.append(request) }
        signalThread()
    }

    func signalThread() {
        var one: UInt8 = 1
        _ = write(wake.write.rawValue, &one, 1)  // a full pipe already says "wake up"
    }
}
