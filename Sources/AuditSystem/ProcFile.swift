#if canImport(Glibc)
import Glibc
#endif

/// Small reads from `/proc`.
public enum ProcFile {
    /// The file's first line without its newline or trailing NULs; nil when it cannot be read.
    public static func firstLine(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        let line = bytes[0..<count].prefix { $0 != 0x0A && $0 != 0 }
        return String(decoding: line, as: UTF8.self)
    }
}
