/// `strtoul`/`strtoull` as glibc reads a field's value: leading white space, an optional sign
/// (a minus negates the result as an unsigned number), an optional `0x` in base 16, then digits up
/// to the first other byte. `overflow` is glibc's ERANGE, where auparse prints `conversion error`.
enum CNumber {
    static func parse(_ text: UnsafeRawBufferPointer, base: UInt64) -> (value: UInt64, overflow: Bool) {
        // Most values are digits only, too few to overflow: ids, system calls, arches, arguments.
        if let value = digitsOnly(text, base: base) { return (value, false) }
        var index = 0
        while index < text.count, isSpace(text[index]) { index += 1 }
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        if base == 16, index + 1 < text.count, text[index] == UInt8(ascii: "0"),
           text[index + 1] | 0x20 == UInt8(ascii: "x") {
            index += 2
        }
        var value: UInt64 = 0
        var overflow = false
        while index < text.count, let digit = SocketAddressText.hexValue(text[index]), UInt64(digit) < base {
            let (product, high) = value.multipliedReportingOverflow(by: base)
            let (sum, carry) = product.addingReportingOverflow(UInt64(digit))
            if high || carry { overflow = true }
            value = sum
            index += 1
        }
        if overflow { return (UInt64.max, true) }
        return (negative ? 0 &- value : value, false)
    }

    /// The value of a text of 1 to 18 decimal or 1 to 15 hex digits (nothing else), which cannot
    /// overflow; nil for anything else, which `parse` reads as strtoul does.
    @inline(__always)
    private static func digitsOnly(_ text: UnsafeRawBufferPointer, base: UInt64) -> UInt64? {
        guard !text.isEmpty, base == 10 ? text.count <= 18 : base == 16 && text.count <= 15 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            let digit: UInt8
            if byte &- 0x30 < 10 {
                digit = byte &- 0x30
            } else if base == 16, (byte | 0x20) &- 0x61 < 6 {
                digit = (byte | 0x20) &- 0x61 &+ 10
            } else {
                return nil
            }
            value = value &* base &+ UInt64(digit)
        }
        return value
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
}
