#if canImport(Glibc)
import Glibc
#endif

/// Small reads from `/proc`.
public enum ProcFile {
    /// The file's first line without its newline or trailing NULs; nil when it cannot be read.
    public static func firstLine(_ path: String) -> String? {
        guard let file = Descriptor.open(path, O_RDONLY) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { read(file.rawValue, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        let line = bytes[0..<count].prefix { $0 != 0x0A && $0 != 0 }
        return String(decoding: line, as: UTF8.self)
    }
}
