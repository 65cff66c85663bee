/// When written lines are forced to the disk (`flush` in auditd.conf).
///
/// swift-auditd writes lines in batches: one `write(2)` per batch window (20 ms by default) or
/// when the buffer fills. "Every `freq` records" therefore means: after the write that carries
/// the record count across a multiple of `freq`, the file is synced once, so no record waits for
/// a sync longer than `freq` records plus one batch. auditd (`handle_event`, src/auditd-event.c)
/// syncs after the record whose count is a multiple of `freq`; the number of syncs is the same.
public enum FlushMode: String, Sendable, Equatable, CaseIterable {
    /// Lines are written, never synced by the daemon (auditd's compiled default).
    case none
    /// `fsync` on the record path every `freq` records.
    case incremental
    /// Every `freq` records a separate thread is asked to `fsync`; the record path never waits.
    case incrementalAsync = "incremental_async"
    /// The file is opened `O_DSYNC`: every write returns once its data is on the disk.
    case data
    /// The file is opened `O_SYNC`: data and metadata are on the disk when a write returns.
    case sync

    /// Whether `freq` applies.
    public var isIncremental: Bool { self == .incremental || self == .incrementalAsync }
}
