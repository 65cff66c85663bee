import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Opening the log file the way auditd does, with the checks an administrator expects.
///
/// The file is opened `O_WRONLY|O_APPEND|O_NOFOLLOW|O_CLOEXEC` (plus `O_DSYNC` or `O_SYNC` when
/// the flush mode asks); a missing file is created with `O_EXCL`, then set to 0600 (0640 with a
/// reader group) whatever the umask. A missing directory is created 0700. A symlink in the log
/// file's place, something other than a regular file, a file owned by another user, or a
/// directory that other users can write is refused: each would let another user redirect or
/// remove audit records (auditd: `open_audit_log`, `create_log_file`, `src/auditd-log.c`).
public enum LogFile {
    /// Extra `open(2)` flags a flush mode needs.
    public struct SyncFlags: Sendable, Equatable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let none = SyncFlags(rawValue: 0)
        public static let data = SyncFlags(rawValue: O_DSYNC)
        public static let full = SyncFlags(rawValue: O_SYNC)

        public init(_ mode: FlushMode) {
            switch mode {
            case .data: self = .data
            case .sync: self = .full
            default: self = .none
            }
        }
    }

    /// An open live log.
    public struct Opened: Sendable {
        public let descriptor: Int32
        /// Its size when opened (0 for a new file).
        public let size: UInt64
        /// Whether this open created it.
        public let created: Bool
    }

    /// Opens (or creates) the live log: directory checks, `O_EXCL` creation, mode and group.
    public static func open(path: String, mode: mode_t, group: gid_t?, directoryMode: mode_t = 0o700,
                            sync: SyncFlags) throws(AuditLogError) -> Opened {
        guard path.hasPrefix("/") else { throw AuditLogError("log_file \(path) is not an absolute path") }
        try prepareDirectory(of: path, mode: group == nil ? directoryMode : 0o750, group: group)
        let flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | sync.rawValue
        var created = false
        var fd: Int32 = -1
        for _ in 0..<3 {
            fd = Glibc.open(path, flags)
            if fd >= 0 || errno != ENOENT { break }
            // Missing: create it, never taking over a file someone else made meanwhile.
            fd = Glibc.open(path, flags | O_CREAT | O_EXCL, mode)
            if fd >= 0 { created = true; break }
            if errno != EEXIST { break }
        }
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { throw AuditLogError("log file \(path) is a symbolic link; refusing to follow it") }
            throw AuditLogError("cannot open log file", cause: SystemCallError("open", errno: code, subject: path))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw AuditLogError("cannot inspect log file", cause: SystemCallError("fstat", errno: code, subject: path))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw AuditLogError("log file \(path) is not a regular file")
        }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            close(fd)
            throw AuditLogError("log file \(path) is owned by uid \(info.st_uid), not by root; refusing to write to it")
        }
        do {
            try setOwnership(fd, path: path, info: info, mode: mode, group: group)
        } catch {
            close(fd)
            throw error
        }
        return Opened(descriptor: fd, size: created ? 0 : UInt64(info.st_size), created: created)
    }

    /// `fchmod` to `mode` and `fchown` to root (when we are root) and `group`, when they differ.
    static func setOwnership(_ fd: Int32, path: String, info: stat, mode: mode_t, group: gid_t?) throws(AuditLogError) {
        if info.st_mode & 0o7777 != mode, fchmod(fd, mode) != 0 {
            throw AuditLogError("cannot set the log file's permissions", cause: SystemCallError("fchmod", errno: errno, subject: path))
        }
        let owner: uid_t = geteuid() == 0 && info.st_uid != 0 ? 0 : uid_t.max
        let wantedGroup: gid_t = group ?? (geteuid() == 0 ? 0 : info.st_gid)
        let newGroup: gid_t = wantedGroup != info.st_gid ? wantedGroup : gid_t.max
        if owner != uid_t.max || newGroup != gid_t.max, fchown(fd, owner, newGroup) != 0 {
            throw AuditLogError("cannot set the log file's owner", cause: SystemCallError("fchown", errno: errno, subject: path))
        }
    }

    /// The directory holding `path`: made with `mode` when missing (its parents 0755); refused
    /// when it is a symlink, not a directory, owned by another user, or writable by others (or
    /// by a group other than root's). With a reader group it becomes `root:group 0750`.
    static func prepareDirectory(of path: String, mode: mode_t, group: gid_t? = nil) throws(AuditLogError) {
        let directory = parent(of: path)
        var info = stat()
        if lstat(directory, &info) != 0 {
            guard errno == ENOENT else {
                throw AuditLogError("cannot inspect log directory", cause: SystemCallError("lstat", errno: errno, subject: directory))
            }
            try makeDirectories(directory, mode: mode)
            guard lstat(directory, &info) == 0 else {
                throw AuditLogError("cannot inspect log directory", cause: SystemCallError("lstat", errno: errno, subject: directory))
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw AuditLogError("log directory \(directory) is not a directory (a symbolic link is refused too)")
        }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw AuditLogError("log directory \(directory) is owned by uid \(info.st_uid), not by root; refusing to log there")
        }
        if info.st_mode & S_IWOTH != 0 {
            throw AuditLogError("log directory \(directory) is writable by every user; refusing to log there")
        }
        if info.st_mode & S_IWGRP != 0, info.st_gid != 0 {
            throw AuditLogError("log directory \(directory) is writable by group \(info.st_gid); refusing to log there")
        }
        guard let group, group != 0 else { return }
        // A reader group: root:group 0750, set on the directory we checked, not on a path
        // someone could swap meanwhile.
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw AuditLogError("cannot open log directory", cause: SystemCallError("open", errno: errno, subject: directory))
        }
        defer { close(fd) }
        if info.st_gid != group || (geteuid() == 0 && info.st_uid != 0) {
            if fchown(fd, geteuid() == 0 ? 0 : uid_t.max, group) != 0 {
                throw AuditLogError("cannot give the log directory to group \(group)", cause: SystemCallError("fchown", errno: errno, subject: directory))
            }
        }
        if info.st_mode & 0o7777 != 0o750, fchmod(fd, 0o750) != 0 {
            throw AuditLogError("cannot set the log directory's permissions", cause: SystemCallError("fchmod", errno: errno, subject: directory))
        }
    }

    static func makeDirectories(_ directory: String, mode: mode_t) throws(AuditLogError) {
        let up = parent(of: directory)
        if up != directory, access(up, F_OK) != 0 { try makeDirectories(up, mode: 0o755) }
        if mkdir(directory, mode) != 0, errno != EEXIST {
            throw AuditLogError("cannot create log directory", cause: SystemCallError("mkdir", errno: errno, subject: directory))
        }
        // mkdir's mode is filtered by the umask; the directory's mode must not be.
        _ = chmod(directory, mode)
    }

    /// The directory part of an absolute path (`/` for a file at the root).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = String(path[..<slash])
        return head.isEmpty ? "/" : head
    }
}
