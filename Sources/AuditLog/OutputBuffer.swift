#if canImport(Glibc)
import Glibc
#endif

/// One fixed block of memory that formatted lines are appended to, then written with one
/// `write(2)`. Allocated once; the record path never allocates.
public final class OutputBuffer {
    public let capacity: Int
    let base: UnsafeMutableRawPointer
    public internal(set) var count = 0

    public init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    @inlinable public var available: Int { capacity - count }
    @inlinable public var isEmpty: Bool { count == 0 }
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Appends bytes that the caller made sure fit.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= available, "OutputBuffer overflow: the caller must make room first")
        if let source = bytes.baseAddress, bytes.count > 0 {
            (base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    public func append(byte: UInt8) {
        precondition(count < capacity, "OutputBuffer overflow: the caller must make room first")
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    public func append(_ array: [UInt8]) { array.withUnsafeBytes { append($0) } }

    /// Forgets the first `written` bytes, keeping the rest at the front.
    public func consume(_ written: Int) {
        precondition(written <= count)
        if written < count { base.copyMemory(from: base + written, byteCount: count - written) }
        count -= written
    }
}
