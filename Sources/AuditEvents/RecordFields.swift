/// A record's `name=value` fields, found in place: split on spaces, the value of a quoted field
/// running to its closing quote (so a quoted value may hold spaces), as auditd writes them.
public enum RecordFields {
    /// Calls `body` with the range of each field's name and value within `range` of `bytes`.
    @inline(__always)
    public static func forEach(in bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, _ body: (Range<Int>, Range<Int>) -> Void) {
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            while index < end && bytes[index] == 0x20 { index += 1 }
            let nameStart = index
            while index < end && bytes[index] != UInt8(ascii: "=") && bytes[index] != 0x20 { index += 1 }
            guard index < end, bytes[index] == UInt8(ascii: "=") else { continue }
            let nameEnd = index
            index += 1
            let valueStart = index
            if index < end && (bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")) {
                let quote = bytes[index]
                index += 1
                while index < end && bytes[index] != quote { index += 1 }
                if index < end { index += 1 }
            } else {
                while index < end && bytes[index] != 0x20 { index += 1 }
            }
            body(nameStart..<nameEnd, valueStart..<index)
        }
    }
}

/// Small readings of a field's text.
public enum FieldText {
    @inline(__always)
    public static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let start = text.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != start[offset] { return false }
        return true
    }

    /// Whether `range` is a non-empty, even run of upper-case hex digits: how auditd writes a
    /// string that holds a space, a quote or a control character.
    @inline(__always)
    public static func isHex(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard !range.isEmpty, range.count % 2 == 0 else { return false }
        for index in range {
            let byte = bytes[index]
            guard (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) else { return false }
        }
        return true
    }

    @inline(__always)
    public static func nibble(_ byte: UInt8) -> UInt8 { byte <= 0x39 ? byte - 0x30 : byte - 0x37 }

    /// The bytes a hex run stands for.
    public static func decodeHex(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8] {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(range.count / 2)
        var index = range.lowerBound
        while index + 1 < range.upperBound {
            decoded.append(nibble(bytes[index]) << 4 | nibble(bytes[index + 1]))
            index += 2
        }
        return decoded
    }

    /// A string field's text: inside its quotes, decoded from hex, or as written (`(null)`, `?`).
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(range.count)
        appendString(bytes, range, to: &text)
        return text
    }

    /// `string`, appended to `out` (a reader that keeps one buffer allocates nothing per field).
    public static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to out: inout [UInt8]) {
        if range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"") {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]))
        } else if isHex(bytes, range) {
            var index = range.lowerBound
            while index + 1 < range.upperBound {
                out.append(nibble(bytes[index]) << 4 | nibble(bytes[index + 1]))
                index += 2
            }
        } else {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
        }
    }

    /// The keys of a `key=` value: one quoted key, or several hex-encoded and joined by 0x01
    /// (`AUDIT_KEY_SEPARATOR`); none for `(null)`.
    public static func keys(in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [[UInt8]] {
        if equals(bytes, range, "(null)") { return [] }
        return string(bytes, range).split(separator: 0x01, omittingEmptySubsequences: true).map(Array.init)
    }
}
