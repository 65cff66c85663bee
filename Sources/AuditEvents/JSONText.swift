/// JSON strings written straight from bytes: valid UTF-8 passes through, the characters JSON
/// requires are escaped, and a byte that is not part of valid UTF-8 becomes the escape `\udcXX`
/// (U+DC80 + the byte: Python's "surrogateescape" convention), so no byte is ever dropped and the
/// text stays valid UTF-8. `json.loads(line)` then `.encode("utf-8", "surrogateescape")` gives
/// the original bytes back.
public enum JSONText {
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `bytes` as a JSON string, quotes included.
    public static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to output: OutputBuffer) {
        output.append(UInt8(ascii: "\""))
        var index = 0
        let count = bytes.count
        var runStart = 0
        while index < count {
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if byte >= 0x80, let length = validSequenceLength(bytes, at: index) {
                index += length
                continue
            }
            if runStart < index { output.append(UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
            appendEscape(byte, to: output)
            index += 1
            runStart = index
        }
        if runStart < count { output.append(UnsafeBufferPointer(rebasing: bytes[runStart..<count])) }
        output.append(UInt8(ascii: "\""))
    }

    public static func appendString(_ bytes: [UInt8], to output: OutputBuffer) {
        bytes.withUnsafeBufferPointer { appendString($0, to: output) }
    }

    public static func appendString(_ text: StaticString, to output: OutputBuffer) {
        appendString(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: output)
    }

    @inline(__always)
    static func appendEscape(_ byte: UInt8, to output: OutputBuffer) {
        switch byte {
        case UInt8(ascii: "\""): output.append(0x5C); output.append(0x22)
        case UInt8(ascii: "\\"): output.append(0x5C); output.append(0x5C)
        case 0x0A: output.append(0x5C); output.append(UInt8(ascii: "n"))
        case 0x09: output.append(0x5C); output.append(UInt8(ascii: "t"))
        case 0x0D: output.append(0x5C); output.append(UInt8(ascii: "r"))
        default:
            // A control character as \u00XX; a byte outside valid UTF-8 as \udcXX.
            output.append(byte < 0x20 ? "\\u00" : "\\udc")
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    /// The length of the valid UTF-8 sequence starting at `index` (a lead byte ≥ 0x80), or nil.
    @inline(__always)
    static func validSequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let lead = bytes[index]
        let count = bytes.count
        func continuation(_ offset: Int) -> UInt8? {
            guard index + offset < count else { return nil }
            let byte = bytes[index + offset]
            return byte & 0xC0 == 0x80 ? byte : nil
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) != nil ? 2 : nil
        case 0xE0...0xEF:
            guard let second = continuation(1), continuation(2) != nil else { return nil }
            if lead == 0xE0 && second < 0xA0 { return nil }  // overlong
            if lead == 0xED && second > 0x9F { return nil }  // a UTF-16 surrogate
            return 3
        case 0xF0...0xF4:
            guard let second = continuation(1), continuation(2) != nil, continuation(3) != nil else { return nil }
            if lead == 0xF0 && second < 0x90 { return nil }  // overlong
            if lead == 0xF4 && second > 0x8F { return nil }  // above U+10FFFF
            return 4
        default:
            return nil
        }
    }

    /// Appends a decimal number.
    @inline(__always)
    public static func appendNumber<T: BinaryInteger>(_ value: T, to output: OutputBuffer) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        output.append(decimal: UInt64(value.magnitude))
    }
}
