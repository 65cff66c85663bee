import AuditSystem

/// One plugin as the dispatcher feeds it: what its file says, where its messages wait, and the
/// program or built-in socket they go to. Every field that changes does so under the dispatcher's
/// lock; `offset` alone belongs to the dispatcher's thread.
final class Plugin: @unchecked Sendable {
    let entry: PluginDirectory.Entry
    /// The program's queue (the built-in's readers have one each).
    let queue: PluginQueue
    let afUnix: AfUnixServer?
    var process: PluginProcess?
    /// How much of the first queued message the program was sent.
    var offset = 0
    var restarts = 0
    /// Exited or died more than `max_restarts` times.
    var hasFailed = false
    /// Its queue overflowed under `overflow_action = suspend`.
    var isSuspended = false
    /// Messages it did not get other than by its queue refusing them.
    var passedOver: UInt64 = 0
    /// `overflow_action = syslog` reports the first few overflows, then says it stops reporting.
    var overflowReports = 0

    init(entry: PluginDirectory.Entry, settings: DispatcherSettings) throws(PluginStartError) {
        self.entry = entry
        queue = PluginQueue(messages: settings.queueMessages, bytes: settings.queueBytes)
        afUnix = entry.configuration.isBuiltinAfUnix
            ? try AfUnixServer(arguments: entry.configuration.arguments, queueMessages: settings.queueMessages, queueBytes: settings.queueBytes)
            : nil
    }

    var configuration: PluginConfiguration { entry.configuration }
    var name: String { configuration.name }
    var path: String { configuration.path ?? "" }

    /// Starts the program (a built-in has none).
    func start() throws(PluginStartError) {
        guard afUnix == nil else { return }
        do {
            process = try PluginProcess(program: path, arguments: configuration.arguments)
        } catch {
            throw .system(error)
        }
        offset = 0
    }

    var status: PluginStatus {
        PluginStatus(
            name: name, path: path, pid: process?.pid ?? 0,
            state: hasFailed ? .failed : isSuspended ? .suspended : afUnix != nil ? .listening : .running,
            queued: afUnix?.queued ?? queue.counts.queued,
            dropped: queue.counts.refused + (afUnix?.refused ?? 0) + passedOver,
            restarts: restarts, readers: afUnix?.connected.count ?? 0, format: configuration.format)
    }
}

/// Why a plugin could not be started; it is left out and the others go on.
public enum PluginStartError: Error, CustomStringConvertible {
    /// Its `args` make no sense for it (the built-in af_unix reads them).
    case badArguments(String)
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .badArguments(let problem): problem
        case .system(let error): error.description
        }
    }
}
