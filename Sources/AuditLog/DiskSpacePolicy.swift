/// What the writer does when the disk runs low, fills up or fails (auditd's `space_left_action`,
/// `admin_space_left_action`, `disk_full_action`, `disk_error_action`).
public enum DiskAction: Sendable, Equatable, CustomStringConvertible {
    case ignore
    /// A diagnostic at alert level.
    case syslog
    /// Rotate the logs (when `num_logs` > 1).
    case rotate
    /// auditd mails `action_mail_acct`; swift-auditd has no mailer and logs the alert instead.
    case email
    /// Close the log, suspend logging and run the program; `resume()` reopens the log.
    case exec(String)
    /// Close the log and stop writing until `resume()`; records that arrive meanwhile are counted.
    case suspend
    /// Switch the system to single-user mode (`/sbin/init 1`), through `SystemActions`.
    case single
    /// Halt the system (`/sbin/init 0`), through `SystemActions`.
    case halt

    public var description: String {
        switch self {
        case .ignore: "ignore"
        case .syslog: "syslog"
        case .rotate: "rotate"
        case .email: "email"
        case let .exec(path): "exec \(path)"
        case .suspend: "suspend"
        case .single: "single"
        case .halt: "halt"
        }
    }
}

/// A free-space mark: whole MiB, or a percentage of the log's file system.
public enum SpaceThreshold: Sendable, Equatable, CustomStringConvertible {
    case megabytes(UInt64)
    case percent(UInt64)

    /// The mark in bytes on a file system of `totalBytes`.
    public func bytes(ofFileSystemBytes totalBytes: UInt64) -> UInt64 {
        switch self {
        case let .megabytes(count): count * RotationPolicy.mebibyte
        case let .percent(share): totalBytes / 100 * share
        }
    }

    public var isPercentage: Bool { if case .percent = self { true } else { false } }

    public var description: String {
        switch self {
        case let .megabytes(count): "\(count)"
        case let .percent(share): "\(share)%"
        }
    }
}

/// The disk-space marks and actions, and how often free space is sampled.
public struct DiskSpacePolicy: Sendable, Equatable {
    public var spaceLeft: SpaceThreshold
    public var spaceLeftAction: DiskAction
    public var adminSpaceLeft: SpaceThreshold
    public var adminSpaceLeftAction: DiskAction
    public var diskFullAction: DiskAction
    public var diskErrorAction: DiskAction
    /// Free space is sampled (`fstatfs`) after a write at most this often, never per record.
    /// auditd samples after about 3 of every 8 writes.
    public var checkIntervalMilliseconds: Int64

    /// auditd's compiled defaults (`clear_config`).
    public init(spaceLeft: SpaceThreshold = .megabytes(0), spaceLeftAction: DiskAction = .ignore,
                adminSpaceLeft: SpaceThreshold = .megabytes(0), adminSpaceLeftAction: DiskAction = .ignore,
                diskFullAction: DiskAction = .ignore, diskErrorAction: DiskAction = .syslog,
                checkIntervalMilliseconds: Int64 = 1000) {
        self.spaceLeft = spaceLeft
        self.spaceLeftAction = spaceLeftAction
        self.adminSpaceLeft = adminSpaceLeft
        self.adminSpaceLeftAction = adminSpaceLeftAction
        self.diskFullAction = diskFullAction
        self.diskErrorAction = diskErrorAction
        self.checkIntervalMilliseconds = checkIntervalMilliseconds
    }
}
