import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Opening the log file the way auditd does, with the checks an administrator expects.
///
/// The file is opened `O_WRONLY|O_APPEND|O_NOFOLLOW|O_CLOEXEC` (plus `O_DSYNC` or `O_SYNC` when
/// the flush mode asks), created 0600 in a directory created 0700. A symlink in the log file's
/// place, something other than a regular file, or a directory others can write is refused: each
/// would let another user redirect or remove audit records.
public enum LogFile {
    /// Extra `open(2)` flags a flush mode needs.
    public struct SyncFlags: Sendable, Equatable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let none = SyncFlags(rawValue: 0)
        public static let data = SyncFlags(rawValue: O_DSYNC)
        public static let full = SyncFlags(rawValue: O_SYNC)
    }

    /// Makes sure the directory of `path` exists and is safe, then opens the file for appending.
    public static func open(path: String, mode: mode_t = 0o600, directoryMode: mode_t = 0o700,
                            sync: SyncFlags = .none) throws(AuditLogError) -> Int32 {
        guard path.hasPrefix("/") else { throw AuditLogError("log_file \(path) is not an absolute path") }
        try prepareDirectory(of: path, mode: directoryMode)
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | sync.rawValue
        let fd = Glibc.open(path, flags, mode)
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
        return fd
    }

    /// The directory holding `path`, made with `mode` when missing (its parents 0755).
    static func prepareDirectory(of path: String, mode: mode_t) throws(AuditLogError) {
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
        if info.st_mode & S_IWOTH != 0 {
            throw AuditLogError("log directory \(directory) is writable by every user; refusing to log there")
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
