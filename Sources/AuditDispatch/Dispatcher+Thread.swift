import AuditLog
import AuditProtocol
import AuditSystem
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The dispatcher's own thread: it sleeps in `poll` on the wake-up pipe and every plugin, writes
/// what each plugin takes without blocking, restarts a plugin that is gone, reloads `plugin_dir`,
/// and at the stop lets the plugins read what waits for them before it ends them.
extension Dispatcher {
    static let drainTime = 1000  // ms: at stop, how long plugins may take to read what waits
    static let exitTime = 1000   // ms: how long a plugin may take to exit after end of file, then after SIGTERM

    func run() {
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
    func waitAndServe(_ plugins: [Plugin], timeout: Int32) {
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
    func lost(_ plugin: Plugin, exited: Bool) {
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
    func end(_ process: PluginProcess) {
        process.signal(SIGTERM)
        if !waitForExit(process, milliseconds: Int32(Self.exitTime)) {
            process.signal(SIGKILL)
        }
    }

    func waitForExit(_ process: PluginProcess, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: process.exitDescriptor.rawValue, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    func load(_ settings: DispatcherSettings) -> [Plugin] {
        let directory = PluginDirectory.load(settings.pluginDirectory)
        for problem in directory.problems { logger.error("Skipping plugin: \(problem)") }
        return directory.active.compactMap { entry in startPlugin(entry, settings) }
    }

    func startPlugin(_ entry: PluginDirectory.Entry, _ settings: DispatcherSettings) -> Plugin? {
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
    func reconcile(_ settings: DispatcherSettings) {
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
    func retire(_ plugin: Plugin) {
        if let process = plugin.process {
            process.closeSocket()
            if !waitForExit(process, milliseconds: Int32(Self.exitTime)) { end(process) }
            process.reap()
        }
        plugin.afUnix?.close()
        shared.withLock { _ in plugin.process = nil }
    }

    /// The stop: what waits is written within `drainTime`, then every plugin is retired.
    func shutDown() {
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
