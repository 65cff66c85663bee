#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor's system calls that the queue makes, each throwing what failed and where.
enum QueueFile {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(QueueStorageError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw QueueStorageError("open", path) }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(QueueStorageError) {
        try writeAll(fd, bytes[...], path: path)
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String) throws(QueueStorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw QueueStorageError("write", path)
            }
            written += result
        }
    }

    static func readAll(_ path: String) throws(QueueStorageError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue }; throw QueueStorageError("read", path) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    static func readRange(_ fd: Int32, offset: Int, count: Int, path: String) throws(QueueStorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if result < 0 { if errno == EINTR { continue }; throw QueueStorageError("pread", path) }
            if result == 0 { throw QueueStorageError("pread", path, errno: EIO) }
            done += result
        }
        return bytes
    }

    static func sync(_ fd: Int32, path: String) throws(QueueStorageError) {
        guard fsync(fd) == 0 else { throw QueueStorageError("fsync", path) }
    }

    /// Writes `bytes` to `path` so that a crash leaves either the old or the new file: a temporary
    /// file, fsync, rename, fsync of the directory.
    static func replace(_ path: String, with bytes: [UInt8], directory: String) throws(QueueStorageError) {
        let temporary = path + ".new"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try writeAll(fd, bytes, path: temporary)
            try sync(fd, path: temporary)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw QueueStorageError("rename", path) }
        try syncDirectory(directory)
    }

    static func syncDirectory(_ directory: String) throws(QueueStorageError) {
        let fd = try open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: directory)
    }

    static func makeDirectory(_ path: String) throws(QueueStorageError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw QueueStorageError("mkdir", path) }
    }
}
