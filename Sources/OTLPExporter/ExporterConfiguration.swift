/// What `swift-auditd-otlp` reads from its own configuration file (the one argument auditd passes
/// it, `args =` in its plugins.d file). Every field but `endpoint` and `queueDirectory` has a default.
public struct ExporterConfiguration: Sendable, Equatable {
    /// The full OTLP/HTTP logs URL, e.g. `http://127.0.0.1:4318/v1/logs`.
    public var endpoint: String = ""
    /// Where the durable queue lives; the plugin creates it (0700) if missing.
    public var queueDirectory: String = ""
    /// The most the queue holds on disk (bytes of queued events) before `queueFullAction` applies.
    public var queueMaxBytes: Int = 64 << 20
    public var queueFullAction: QueueFullAction = .dropOldest
    /// The most events, and bytes of encoded LogRecords, in one export request. Bytes are the
    /// limit that usually applies (1 MiB: about 850 ENRICHED syscall events of 1.2 KB): a request
    /// per 512 events cost a third of the throughput in commits and round trips (`make bench-otlp`).
    public var batchMaxEvents: Int = 8192
    public var batchMaxBytes: Int = 1 << 20
    /// How long the sender waits for a batch to fill once it has at least one event.
    public var batchDelay: Duration = .milliseconds(200)
    /// How often queued events are made durable (`fsync`) while stdin is busy.
    public var syncInterval: Duration = .milliseconds(200)
    /// The first retry's delay, doubled up to `retryMaxDelay`; a `Retry-After` above the cap is capped.
    public var retryInitialDelay: Duration = .milliseconds(500)
    public var retryMaxDelay: Duration = .seconds(30)
    /// How long one request may take before it counts as a failed attempt (retried).
    public var requestTimeout: Duration = .seconds(10)
    /// At end of input or SIGTERM, how long the plugin keeps sending what it queued before it exits
    /// (what it could not send stays in the queue for the next start).
    public var shutdownTimeout: Duration = .seconds(5)
    /// An event whose records stop coming is closed after this long (auditd's `end_of_event_timeout`).
    public var endOfEventTimeout: Duration = .seconds(2)
    /// The `host.name` resource attribute; nil means the machine's host name.
    public var hostName: String?
    /// The `service.name` resource attribute.
    public var serviceName: String = "swift-auditd"

    public init() {}
}

/// What a full queue does with one more event.
public enum QueueFullAction: String, Sendable, CaseIterable {
    /// Drops the oldest events not yet being sent, and counts them.
    case dropOldest = "drop_oldest"
    /// Drops the event that does not fit, and counts it.
    case dropNewest = "drop_newest"
    /// Stops reading standard input until the sender makes room; auditd's plugin queue then fills
    /// and its `overflow_action` applies there.
    case block
}
