import AuditProtocol

/// Appends text to memory the caller made big enough: the scratch space enrichment builds a value
/// in. No checks beyond a debug assertion; the callers bound every value they write.
struct TextSink {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        assert(count < capacity)
        base[count] = byte
        count += 1
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        assert(count + bytes.count <= capacity)
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        copyBytes(source.assumingMemoryBound(to: UInt8.self), count: bytes.count, to: base + count)
        count += bytes.count
    }

    /// `value` in decimal, as `%d`/`%u` print it.
    mutating func append(decimal value: Int64) {
        if value < 0 {
            append(UInt8(ascii: "-"))
            append(decimal: UInt64(0 &- UInt64(bitPattern: value)))
        } else {
            append(decimal: UInt64(value))
        }
    }

    mutating func append(decimal value: UInt64) {
        DecimalDigits.with(value) { append($0) }
    }
}

/// Copies `count` bytes. Labels, names and numbers are a few bytes long: a loop is cheaper for them
/// than a call to `memcpy` (callgrind: about 60 instructions per call, 20 calls a SYSCALL line).
@inline(__always)
func copyBytes(_ source: UnsafePointer<UInt8>, count: Int, to destination: UnsafeMutablePointer<UInt8>) {
    if count <= 16 {
        for index in 0..<count { destination[index] = source[index] }
    } else {
        destination.update(from: source, count: count)
    }
}
