import AuditLog

/// The auditd.conf keys of the dispatcher, as auditd 3.0.9 reads them.
public struct DispatcherSettings: Equatable, Sendable {
    /// `plugin_dir`.
    public var pluginDirectory = "/etc/audit/plugins.d"
    /// `q_depth`: how many events auditd's one queue for all plugins holds. Each plugin's queue
    /// here is sized from it (`queueMessages`, `queueBytes`).
    public var queueDepth = 2000
    /// `overflow_action`: what a full queue does, to that plugin only.
    public var overflowAction = OverflowAction.syslog
    /// `max_restarts`: how often a plugin that exits or dies is started again.
    public var maxRestarts = 10
    /// How the daemon's own records are framed for plugins (`log_format`, `name_format`).
    public var localProtocol = DispatchProtocol.formattedLine

    public init() {}

    /// Messages each plugin's queue holds: auditd's `q_depth` counts events, and an event is
    /// several records, each one message (three for the usual SYSCALL, PROCTITLE, EOE; more for
    /// an execve). Measured on a full-rate load, a queue of `q_depth` messages filled in the few
    /// milliseconds a busy machine took to schedule the dispatcher's thread.
    public var queueMessages: Int { queueDepth * 4 }
    /// Bytes each plugin's queue may hold: `queueMessages` of a typical size (512 bytes). A queue
    /// of larger records holds fewer; either limit refuses a message. At auditd's default that is
    /// 4 MiB, less than auditd's queue of 2000 events of 8986 bytes each.
    public var queueBytes: Int { queueMessages * 512 }
}

/// `overflow_action` (`audisp/queue.c: do_overflow_action`).
public enum OverflowAction: String, Equatable, Sendable {
    case ignore, syslog, suspend, single, halt
}

/// What a plugin is doing, as `swift-auditd status` and the state report show it.
public struct PluginStatus: Equatable, Sendable {
    public enum State: String, Sendable {
        /// Its program runs and takes what it is sent.
        case running
        /// Exited or died more than `max_restarts` times: no longer started until a reload.
        case failed
        /// Its queue overflowed with `overflow_action = suspend`: nothing more is queued for it
        /// until the daemon is told to resume (SIGUSR2).
        case suspended
        /// The built-in `af_unix` socket is listening (`readers` say how many are connected).
        case listening
    }

    public var name: String
    public var path: String
    public var pid: Int32
    public var state: State
    public var queued: Int
    /// Messages this plugin did not get: refused by its full queue, passed over while suspended,
    /// or left queued when it failed for good.
    public var dropped: UInt64
    public var restarts: Int
    public var readers: Int
    public var format: PluginConfiguration.Format

    public init(name: String, path: String, pid: Int32, state: State, queued: Int, dropped: UInt64, restarts: Int,
                readers: Int, format: PluginConfiguration.Format) {
        self.name = name
        self.path = path
        self.pid = pid
        self.state = state
        self.queued = queued
        self.dropped = dropped
        self.restarts = restarts
        self.readers = readers
        self.format = format
    }

    /// One line of `swift-auditd status`.
    public var summary: String {
        var text = "\(name): \(path) \(state.rawValue)"
        if pid > 0 { text += " pid \(pid)" }
        if state == .listening { text += " (\(readers) readers)" }
        return text + ", \(format.rawValue), queued \(queued), dropped \(dropped), restarts \(restarts)"
    }
}
