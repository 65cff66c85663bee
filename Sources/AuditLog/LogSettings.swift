#if canImport(Glibc)
import Glibc
#endif

/// Everything about the log files that auditd.conf decides, as the writer uses it.
public struct LogSettings: Sendable, Equatable {
    /// The live log (`log_file`). Rotated files are `PATH.1`, `PATH.2`, … (higher is older).
    public var path: String
    /// `write_logs`: with false no file is opened and records are only counted.
    public var writeLogs: Bool
    /// `log_group`: the group that may read the logs. nil (or 0) keeps them root's alone:
    /// files 0600/0400. A group gives files 0640/0440 and a 0750 directory of that group.
    public var group: gid_t?
    public var flush: FlushMode
    /// `freq`: records between syncs in the incremental modes.
    public var freq: Int
    public var rotation: RotationPolicy
    public var space: DiskSpacePolicy

    public init(path: String, writeLogs: Bool = true, group: gid_t? = nil, flush: FlushMode = .none, freq: Int = 0,
                rotation: RotationPolicy = RotationPolicy(), space: DiskSpacePolicy = DiskSpacePolicy()) {
        self.path = path
        self.writeLogs = writeLogs
        self.group = group
        self.flush = flush
        self.freq = freq
        self.rotation = rotation
        self.space = space
    }

    /// The group, when it is not root's.
    var readerGroup: gid_t? { group.flatMap { $0 == 0 ? nil : $0 } }
    /// The live log's mode: 0640 with a reader group, else 0600.
    var liveMode: mode_t { readerGroup == nil ? 0o600 : 0o640 }
    /// A rotated log's mode: 0440 with a reader group, else 0400.
    var rotatedMode: mode_t { readerGroup == nil ? 0o400 : 0o440 }
}
