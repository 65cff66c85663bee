#if canImport(Glibc)
import Glibc
#endif

/// Bytes read from a log, cut into lines without copying them: `fill` reads into the free space at
/// the back, `nextLine` hands out each complete line (without its `\n`) in place.
///
/// A line longer than `maxLineLength` is handed out in pieces of that length, and counted, rather
/// than growing the buffer without end: the bytes are kept, the grouping of that line is lost.
public struct LineBuffer {
    public let maxLineLength: Int
    private var storage: [UInt8]
    private var start = 0
    private var end = 0
    /// Where the search for the next newline resumes.
    private var scanned = 0
    /// Lines cut because they were longer than `maxLineLength`.
    public private(set) var cutLines = 0

    public init(capacity: Int = 1 << 20, maxLineLength: Int = 1 << 20) {
        self.maxLineLength = max(16, maxLineLength)
        storage = [UInt8](repeating: 0, count: max(capacity, 64))
    }

    /// Bytes of a line not yet ended by `\n`.
    public var pendingCount: Int { end - start }

    /// Calls `read` with the free space at the back (after making room) and keeps what it says it
    /// wrote. Returns what `read` returned (0 at end of file, -1 on an error).
    public mutating func fill(_ read: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        if start > 0 && (end == storage.count || start >= storage.count / 2) {
            storage.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
            }
            end -= start
            scanned -= start
            start = 0
        }
        if end == storage.count {
            storage.append(contentsOf: repeatElement(0, count: storage.count))
        }
        let got = storage.withUnsafeMutableBytes { raw in
            read(UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        if got > 0 { end += got }
        return got
    }

    /// Appends `bytes` (for callers that already hold them).
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            _ = fill { space in
                let count = min(space.count, bytes.count - offset)
                space.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
                offset += count
                return count
            }
        }
    }

    /// Calls `body` with the next complete line, if there is one, and returns whether there was.
    /// The line is valid only during the call.
    @inline(__always)
    public mutating func nextLine<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        let lineStart = start
        let found: Int? = storage.withUnsafeBufferPointer { buffer in
            guard scanned < end, let match = memchr(buffer.baseAddress! + scanned, 0x0A, end - scanned) else { return nil }
            return buffer.baseAddress!.distance(to: match.assumingMemoryBound(to: UInt8.self))
        }
        if let newline = found, newline - lineStart <= maxLineLength {
            start = newline + 1
            scanned = start
            return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lineStart..<newline])) }
        }
        if found == nil { scanned = end }
        if end - start >= maxLineLength {
            cutLines += 1
            let cut = start + maxLineLength
            start = cut
            scanned = cut
            return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lineStart..<cut])) }
        }
        return nil
    }

    /// Takes what is left of a line that never got its `\n` (a torn line at the end of a file).
    public mutating func takeRemainder() -> [UInt8] {
        let rest = Array(storage[start..<end])
        start = 0
        end = 0
        scanned = 0
        return rest
    }
}
