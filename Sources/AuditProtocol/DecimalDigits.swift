/// A number's decimal digits, written on the stack: the one digit writer for every text the
/// project makes (the log's lines, JSON, the interpreted text, OTLP attributes), with no String
/// and no allocation.
public enum DecimalDigits {
    /// Calls `body` with the digits of `value` (no sign, no leading zero; `0` for zero).
    @inlinable @inline(__always)
    public static func with<R>(_ value: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // 24 bytes: room for UInt64.max's 20 digits, written from the end.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &scratch) { bytes in
            var rest = value
            var start = bytes.count
            repeat {
                start -= 1
                bytes[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest != 0
            return try body(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        }
    }
}
