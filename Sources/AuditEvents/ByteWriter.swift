#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer written through a pointer: the formatters append a few bytes at a time,
/// dozens of times per record, and an array's uniqueness and capacity checks on each append cost
/// more than the bytes themselves. Owned by one formatter; freed with it.
public final class ByteWriter {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private var capacity: Int

    public init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    public func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = size
    }

    @inline(__always)
    public func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    public func append(_ bytes: UnsafeRawPointer, count length: Int) {
        reserve(length)
        (base + count).update(from: bytes.assumingMemoryBound(to: UInt8.self), count: length)
        count += length
    }

    @inline(__always)
    public func append(_ text: StaticString) { append(text.utf8Start, count: text.utf8CodeUnitCount) }

    @inline(__always)
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let start = bytes.baseAddress { append(start, count: bytes.count) }
    }

    public func append(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { append($0) } }

    /// A C string, without its NUL.
    @inline(__always)
    public func append(cString text: UnsafePointer<CChar>) { append(text, count: strlen(text)) }

    public func removeAll() { count = 0 }

    /// Drops everything from `start` on.
    public func truncate(to start: Int) { count = start }

    /// The bytes from `start` to the end.
    public func bytes(from start: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + start, count: count - start) }
}
