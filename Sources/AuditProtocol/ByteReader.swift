/// A bounds-checked reader over raw bytes in host byte order. Netlink is host-endian.
///
/// Every read checks its bounds and throws; nothing the kernel or a peer sends can trap.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    public mutating func read<T: FixedWidthInteger>(_: T.Type) throws(AuditProtocolError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw .truncated(what: "\(T.self)", needed: size, available: remaining)
        }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return value
    }

    /// Reads a `UInt32`, or returns zero when the bytes have run out. For structs that grow between
    /// kernels (`struct audit_status`): fields a kernel does not send read as zero.
    public mutating func readOrZero(_: UInt32.Type) -> UInt32 {
        guard remaining >= 4 else { offset = bytes.count; return 0 }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return value
    }
}

/// Appends integers in host byte order; used to build requests, which are small and rare.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }
}
