import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The live log while it is open: its one descriptor, and everything done to the file through
/// it (append, the torn-line cut, sync, the removal check, the rotation's permission change, the
/// free-space sample, close). `LogFile` opens it safely; this owns what was opened, and closes it
/// once, when told or when it goes away.
final class OpenLogFile {
    let path: String
    /// nil once closed.
    private var handle: Descriptor?
    /// The number, for the sync thread's `dup`; -1 once closed.
    var descriptor: Int32 { handle?.rawValue ?? -1 }
    /// The file's size once open: 0 when this open created it; a newline is added after a torn
    /// last line left by a killed writer.
    let sizeAtOpen: UInt64

    /// Opens (or creates) the live log (`LogFile.open`: directory checks, `O_EXCL` creation, mode
    /// and group), then makes sure the next line starts on a line of its own.
    init(path: String, mode: mode_t, group: gid_t?, sync: LogFile.SyncFlags) throws(AuditLogError) {
        let opened = try LogFile.open(path: path, mode: mode, group: group, sync: sync)
        self.path = path
        let handle = Descriptor(owning: opened.descriptor)
        self.handle = handle
        var size = opened.size
        if !opened.created, size > 0, Self.endsInTornLine(path, size: size) {
            var newline: UInt8 = 0x0A
            if Glibc.write(handle.rawValue, &newline, 1) == 1 { size += 1 }
        }
        sizeAtOpen = size
    }

    /// Whether the last byte of the file is not a newline: a process killed in the middle of a
    /// write left half a line, and the first new line must not be glued to it.
    private static func endsInTornLine(_ path: String, size: UInt64) -> Bool {
        let opened = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else { return false }
        let reader = Descriptor(owning: opened)
        var last: UInt8 = 0
        return pread(reader.rawValue, &last, 1, off_t(size - 1)) == 1 && last != 0x0A
    }

    /// Appends `count` bytes from `bytes`; returns how many the file took, or the failure
    /// (`EIO` for a write that took nothing). Retries when interrupted.
    func write(_ bytes: UnsafeRawPointer, count: Int) -> Result<Int, SystemCallError> {
        while true {
            let written = Glibc.write(descriptor, bytes, count)
            if written > 0 { return .success(written) }
            let code = written == 0 ? EIO : errno
            if code == EINTR { continue }
            return .failure(SystemCallError("write", errno: code, subject: path))
        }
    }

    /// Whether the file was removed (or its directory) while open: it still takes writes that no
    /// reader will ever see.
    var isRemoved: Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && info.st_nlink == 0
    }

    /// Cuts the file back to `size` bytes (a line the disk took only part of). False when it could not.
    func truncate(to size: UInt64) -> Bool { ftruncate(descriptor, off_t(size)) == 0 }

    /// `fsync`; nil when it worked.
    func sync() -> SystemCallError? {
        fsync(descriptor) == 0 ? nil : SystemCallError("fsync", errno: errno, subject: path)
    }

    /// The rotation's first step, while the file is still open: read-only for everyone but the
    /// reader group. Returns what could not be done, as auditd words it.
    func makeReadOnly(mode: mode_t, group: gid_t?) -> [String] {
        var problems: [String] = []
        if fchmod(descriptor, mode) != 0 {
            problems.append("Couldn't change permissions while rotating log file (\(Errno(errno).description)))")
        }
        if let group, fchown(descriptor, uid_t.max, group) != 0 {
            problems.append("Couldn't change ownership while rotating log file (\(Errno(errno).description)))")
        }
        return problems
    }

    /// Free space on the file's file system (`fstatvfs`, the POSIX face of auditd's `fstatfs`:
    /// the same `f_bavail`), or nil when it cannot be read.
    func spaceSample() -> SpaceSample? {
        var info = statvfs()
        guard fstatvfs(descriptor, &info) == 0 else { return nil }
        return SpaceSample(availableBlocks: UInt64(info.f_bavail), totalBlocks: UInt64(info.f_blocks),
                           blockSize: UInt64(info.f_frsize))
    }

    /// Closes the descriptor (once; the file takes nothing after it).
    func close() { handle = nil }
}
