import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer written through a pointer: the formatters append a few bytes at a time,
/// dozens of times per record, and an array's uniqueness and capacity checks on each append cost
/// more than the bytes themselves. Owned by one formatter; freed with it.
public final class OutputBuffer {
    /// Stored under other names so that the appends below can be inlined into the formatters of
    /// other modules, which call them per field.
    @usableFromInline var storage: UnsafeMutablePointer<UInt8>
    @usableFromInline var used = 0
    public var base: UnsafeMutablePointer<UInt8> { storage }
    public var count: Int { used }
    @usableFromInline var capacity: Int

    public init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    @inlinable @inline(__always)
    public func reserve(_ extra: Int) {
        if used + extra > capacity { grow(to: used + extra) }
    }

    @usableFromInline func grow(to needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        bigger.update(from: storage, count: used)
        storage.deallocate()
        storage = bigger
        capacity = size
    }

    @inlinable @inline(__always)
    public func append(_ byte: UInt8) {
        if used == capacity { grow(to: used + 1) }
        storage[used] = byte
        used += 1
    }

    @inlinable @inline(__always)
    public func append(_ bytes: UnsafeRawPointer, count length: Int) {
        reserve(length)
        (storage + used).update(from: bytes.assumingMemoryBound(to: UInt8.self), count: length)
        used += length
    }

    @inlinable @inline(__always)
    public func append(_ text: StaticString) { append(text.utf8Start, count: text.utf8CodeUnitCount) }

    /// A number's decimal digits.
    @inlinable @inline(__always)
    public func append(decimal value: UInt64) { DecimalDigits.with(value) { append($0.baseAddress!, count: $0.count) } }

    @inlinable @inline(__always)
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let start = bytes.baseAddress { append(start, count: bytes.count) }
    }

    public func append(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { append($0) } }

    /// A C string, without its NUL.
    @inline(__always)
    public func append(cString text: UnsafePointer<CChar>) { append(text, count: strlen(text)) }

    public func removeAll() { used = 0 }

    /// Drops everything from `start` on.
    public func truncate(to start: Int) { used = start }

    /// The bytes from `start` to the end.
    public func bytes(from start: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + start, count: count - start) }
}
