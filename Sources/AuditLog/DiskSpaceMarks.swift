/// One sample of the log's file system (`fstatvfs`): what the disk-space decisions read.
public struct SpaceSample: Sendable, Equatable {
    /// Blocks an unprivileged writer may still use (`f_bavail`), as auditd's `fstatfs` reads it.
    public var availableBlocks: UInt64
    public var totalBlocks: UInt64
    /// `f_frsize`.
    public var blockSize: UInt64

    public init(availableBlocks: UInt64, totalBlocks: UInt64, blockSize: UInt64) {
        self.availableBlocks = availableBlocks
        self.totalBlocks = totalBlocks
        self.blockSize = blockSize
    }

    var availableBytes: UInt64 { availableBlocks * blockSize }
    var totalBytes: UInt64 { totalBlocks * blockSize }
}

/// auditd's disk-space state flags and the decisions a free-space sample leads to
/// (src/auditd-event.c: `check_space_left`, `do_disk_full_action`): a value, so every decision
/// is tested without filling a disk. The writer runs the actions it names.
///
/// Below 5 free blocks the disk is full (its action runs once, until space returns); below a mark
/// the mark's action runs once (`syslog` re-arms when space recovers, other actions wait for
/// `resume()`).
struct DiskSpaceMarks: Equatable {
    /// auditd's `fs_space_left == 0`: the disk was found full, and has not been seen with room since.
    private(set) var diskFull = false
    /// `space_left_action` ran and is not re-armed (`fs_space_warning`).
    private(set) var spaceLeftActed = false
    /// `admin_space_left_action` ran and is not re-armed (`fs_admin_space_warning`).
    private(set) var adminSpaceLeftActed = false

    /// What a sample, judged against the marks, asks the writer to do.
    enum Decision: Equatable {
        /// Fewer than 5 blocks left: run `disk_full_action` (the disk just filled).
        case diskFull
        /// The disk that was full has room again (and writes work): say so.
        case recovered
        /// Below `space_left`: run `space_left_action`.
        case spaceLeft
    }

    /// The first part of a check: a full disk, its recovery, and `space_left`. `writesFailing`:
    /// the last write failed, so the disk is not called recovered yet. The `admin_space_left`
    /// part (`adminSpaceLeftCrossed`) comes after the writer ran these, only while it still writes.
    mutating func check(_ sample: SpaceSample, policy: DiskSpacePolicy, writesFailing: Bool) -> [Decision] {
        if sample.availableBlocks < 5 {
            return diskFullReached() ? [.diskFull] : []
        }
        var decisions: [Decision] = []
        if diskFull, !writesFailing {
            diskFull = false
            decisions.append(.recovered)
        }
        if sample.availableBytes < policy.spaceLeft.bytes(ofFileSystemBytes: sample.totalBytes) {
            if !spaceLeftActed {
                spaceLeftActed = true
                decisions.append(.spaceLeft)
            }
        } else if spaceLeftActed, policy.spaceLeftAction == .syslog {
            spaceLeftActed = false
        }
        return decisions
    }

    /// Whether `admin_space_left_action` is to run now: below the mark for the first time since
    /// it last ran (`syslog` re-arms above the mark).
    mutating func adminSpaceLeftCrossed(_ sample: SpaceSample, policy: DiskSpacePolicy) -> Bool {
        if sample.availableBytes < policy.adminSpaceLeft.bytes(ofFileSystemBytes: sample.totalBytes) {
            guard !adminSpaceLeftActed else { return false }
            adminSpaceLeftActed = true
            return true
        }
        if adminSpaceLeftActed, policy.adminSpaceLeftAction == .syslog { adminSpaceLeftActed = false }
        return false
    }

    /// The disk is full (a sample, or a write or rotation that failed with `ENOSPC`). True the
    /// first time: `disk_full_action` runs once until space returns.
    mutating func diskFullReached() -> Bool {
        guard !diskFull else { return false }
        diskFull = true
        return true
    }

    /// Writes work again after a failure: a full disk is forgotten.
    mutating func writesRecovered() { diskFull = false }

    /// `resume()`, or a reload that changed the marks: every flag cleared (auditd re-arms all).
    mutating func rearm() { self = DiskSpaceMarks() }
}
