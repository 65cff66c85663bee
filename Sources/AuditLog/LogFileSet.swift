import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The live log and its rotated files, `PATH.1` (newest) … `PATH.N` (oldest), as auditd names
/// them and as ausearch reads them: it walks `PATH`, `PATH.1`, `PATH.2`, … until the first
/// missing number (`src/ausearch-parse.c`), so the numbering must stay contiguous.
public struct LogFileSet: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `PATH.index`, or `PATH` for index 0.
    public func name(_ index: Int) -> String { index == 0 ? path : "\(path).\(index)" }

    /// Whether `PATH.index` exists (as anything: a symlink there still takes the number).
    public func exists(_ index: Int) -> Bool {
        var info = stat()
        return lstat(name(index), &info) == 0
    }

    /// How many rotated files exist without a gap from `.1` up, scanning from `start` (a file
    /// known to exist) to save probes.
    public func contiguousCount(knownAtLeast start: Int = 0) -> Int {
        var count = max(0, start)
        if count > 0, !exists(count) { count = 0 }
        while exists(count + 1) { count += 1 }
        return count
    }

    /// The rename chain of a rotation: `.top-1→.top`, …, `.1→.2`. A missing file is skipped
    /// (`ENOENT`), as auditd does. Returns the first rename error, with the names involved.
    func shiftRotated(upTo top: Int) -> (error: SystemCallError, from: String, to: String)? {
        guard top >= 2 else { return nil }
        for index in stride(from: top, to: 1, by: -1) {
            let from = name(index - 1), to = name(index)
            if rename(from, to) != 0, errno != ENOENT {
                return (SystemCallError("rename", errno: errno, subject: "\(from) -> \(to)"), from, to)
            }
        }
        return nil
    }

    /// Deletes `.numLogs`, `.numLogs+1`, … until one is missing (auditd's `check_excess_logs`).
    /// Returns the names removed.
    public func removeExcess(numLogs: Int) -> [String] {
        guard numLogs >= 2 else { return [] }
        var removed: [String] = []
        var index = numLogs
        while unlink(name(index)) == 0 {
            removed.append(name(index))
            index += 1
        }
        return removed
    }

    /// Sets every rotated file `.1` … `.(limit-1)` that exists to `mode` and `group` (auditd's
    /// `fix_disk_permissions`). Only regular files owned by root are touched; a symlink is
    /// never followed. Returns the names that could not be fixed.
    public func repairRotated(below limit: Int, mode: mode_t, group: gid_t?) -> [String] {
        var failed: [String] = []
        var index = 1
        while index < limit {
            let fd = Glibc.open(name(index), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { break }
                failed.append(name(index))
                index += 1
                continue
            }
            var info = stat()
            if fstat(fd, &info) != 0 || info.st_mode & S_IFMT != S_IFREG || !(info.st_uid == 0 || info.st_uid == geteuid()) {
                failed.append(name(index))
            } else {
                if info.st_mode & 0o7777 != mode, fchmod(fd, mode) != 0 { failed.append(name(index)) }
                if let group, info.st_gid != group, fchown(fd, uid_t.max, group) != 0 { failed.append(name(index)) }
            }
            close(fd)
            index += 1
        }
        return failed
    }
}
