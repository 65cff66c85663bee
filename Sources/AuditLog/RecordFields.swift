import AuditProtocol
/// The `name=value` fields of one RAW line, found as auparse 3.0.9 splits a record
/// (`auparse/ellist.c: parse_up_record`), in place: no copies, no allocation.
///
/// What auparse does, and so this:
/// - tokens are separated by spaces only (quotes do not group), empty tokens skipped;
/// - a token without `=` is no field, except in `AVC`/`USER_AVC` records, where the word after
///   `avc:` and the `{ … }` permission list count as one field each; a list of 256 bytes or more
///   makes auparse drop the record (`failed`);
/// - `msg=a…` (the `msg=audit(…):` stamp) is skipped; `msg='` is cut off and the rest read as a
///   field if it still has an `=`;
/// - one leading `(` is dropped from a name; a field whose value is empty is dropped; then one
///   trailing `:`, `,`, `'` and `)` are dropped from the value, in that order (`)` stays on
///   `(none)` and `(null)`);
/// - a `key=` field (not `(…)`) counts once when quoted, else once per key in its hex text.
///
/// Fields are numbered from 1 as auparse counts them (`type` is 1, or 2 after `node`): auparse
/// reads `arch`, `syscall` and `a0` only at positions 2, 3 and 6 after that offset.
///
/// Past the 6th position only the fields auditd interprets matter, and every name it interprets
/// ends in `id`, `ch` (`arch`), `ll` (`syscall`) or `dr` (`saddr`). There (outside AVC records,
/// whose permission lists swallow tokens) the scan skims: it jumps from one `=` after such an
/// ending to the next, and yields the field only when auparse's split would make that `=` end a
/// field's name (the token's first `=`, or the first after `msg='`). Other fields past the head
/// are not yielded, and `index` there counts only what is yielded (it stays above the head's).
struct RecordFields {
    struct Field {
        let name: UnsafeRawBufferPointer
        /// The value before auparse trims it (`trimmed`); never empty.
        let rawValue: UnsafeRawBufferPointer
        /// auparse's field count once this field is added.
        let index: Int
        /// The name's first 8 bytes packed little-endian (zero past its end), when it is 2 to 9
        /// bytes long, the lengths of the names auditd interprets; else 0.
        let nameKey: UInt64

        /// The value as auparse keeps it.
        var value: UnsafeRawBufferPointer { RecordFields.trimmed(rawValue) }
    }

    private let bytes: UnsafePointer<UInt8>
    private let end: Int
    private let isAVC: Bool
    private var position = 0
    /// Fields auparse has so far.
    private(set) var count = 0
    /// 1 when the record starts with `node=`.
    private(set) var offset = 0
    /// auparse refused the record: nothing of it is interpreted.
    private(set) var failed = false

    /// Whether fields past the 6th position are skimmed (see above); false yields every field.
    private let skims: Bool

    init(line: UnsafeRawBufferPointer, type: AuditMessageType, skims: Bool = true) {
        bytes = line.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(bitPattern: 1)!
        end = line.count
        isAVC = type == .avc || type == .userAVC
        self.skims = skims
    }

    /// The next field, or nil at the end of the line or when auparse would give up. Past the 6th
    /// position, outside AVC records, only fields whose names may be interpreted (see above).
    mutating func next() -> Field? {
        if count - offset >= 6, skims, !isAVC { return nextCandidate() }
        while !failed {
            // The next token, and its first `=`.
            var cursor = position
            while cursor < end, bytes[cursor] == Self.space { cursor += 1 }
            guard cursor < end else {
                position = cursor
                return nil
            }
            var start = cursor
            var equals = -1
            cursor = tokenEnd(from: cursor, equals: &equals)
            position = cursor
            let tokenEnd = cursor
            guard equals >= 0 else {
                if isAVC { countAVCWord(start..<tokenEnd) }
                continue
            }
            if equals == start + 3, bytes[start] == UInt8(ascii: "m"), bytes[start + 1] == UInt8(ascii: "s"),
               bytes[start + 2] == UInt8(ascii: "g") {
                let next = start + 4 < tokenEnd ? bytes[start + 4] : 0
                if next == UInt8(ascii: "a") { continue }
                if next == UInt8(ascii: "'") {
                    start += 5
                    equals = start
                    while equals < tokenEnd, bytes[equals] != Self.equal { equals += 1 }
                    guard equals < tokenEnd else { continue }
                }
            }
            var nameStart = start
            if nameStart < equals, bytes[nameStart] == UInt8(ascii: "(") { nameStart += 1 }
            let valueStart = equals + 1
            guard valueStart < tokenEnd else { continue }
            let name = slice(nameStart..<equals)
            // The trailing punctuation auparse removes never changes a value's first byte, nor
            // where its hex digits end.
            let rawValue = slice(valueStart..<tokenEnd)
            if equals - nameStart == 3, Self.equals(name, "key"), rawValue[0] != UInt8(ascii: "(") {
                count += Self.keyCount(rawValue)
                continue
            }
            count += 1
            if count == 1, Self.equals(name, "node") { offset = 1 }
            return Field(name: name, rawValue: rawValue, index: count, nameKey: packedName(nameStart, equals - nameStart))
        }
        return nil
    }

    /// Whether any `=` in `line` follows a name ending the way every interpreted name ends: when
    /// none does, auditd adds nothing to the line.
    static func mayHoldInterpretedField(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let base = line.baseAddress else { return false }
        return nextCandidateEquals(in: base.assumingMemoryBound(to: UInt8.self), from: 0, end: line.count) != nil
    }

    /// The field whose name ends at the next `=` that follows an interpreted name's ending (and
    /// is where auparse's split ends a name), skipping the tokens between.
    private mutating func nextCandidate() -> Field? {
        var from = position
        while let equals = Self.nextCandidateEquals(in: bytes, from: from, end: end) {
            from = equals + 1
            // The token holding it starts after the last space; tokens before `position` are read.
            var start = equals
            var earlierEquals = false
            while start > position {
                let byte = bytes[start - 1]
                if byte == Self.space { break }
                if byte == Self.equal { earlierEquals = true }
                start -= 1
            }
            if earlierEquals {
                var first = start
                while bytes[first] != Self.equal { first += 1 }
                // Only `msg='…` names a field after an earlier `=`: the first `=` after the quote.
                guard first == start + 3, bytes[start] == UInt8(ascii: "m"), bytes[start + 1] == UInt8(ascii: "s"),
                      bytes[start + 2] == UInt8(ascii: "g"), bytes[start + 4] == UInt8(ascii: "'") else { continue }
                start += 5
                first = start
                while bytes[first] != Self.equal { first += 1 }
                guard first == equals else { continue }
            }
            var nameStart = start
            if nameStart < equals, bytes[nameStart] == UInt8(ascii: "(") { nameStart += 1 }
            var tokenEnd = equals + 1
            while tokenEnd < end, bytes[tokenEnd] != Self.space { tokenEnd += 1 }
            // A field with an empty value is dropped.
            guard tokenEnd > equals + 1 else { continue }
            position = tokenEnd
            count += 1
            return Field(name: slice(nameStart..<equals), rawValue: slice(equals + 1..<tokenEnd), index: count,
                         nameKey: packedName(nameStart, equals - nameStart))
        }
        position = end
        return nil
    }

    /// The first `=` at or after `from` whose two bytes before are `id`, `ch`, `ll` or `dr`.
    @inline(__always)
    private static func nextCandidateEquals(in bytes: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        var index = max(from, 2)
        let raw = UnsafeRawPointer(bytes)
        while index + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            var found = zeroBytes(word ^ (ones &* 0x3D))
            while found != 0 {
                let at = index + found.trailingZeroBitCount / 8
                if isCandidateEnd(bytes, at) { return at }
                found &= found &- 1
            }
            index += 8
        }
        while index < end {
            if isCandidateEnd(bytes, index) { return index }
            index += 1
        }
        return nil
    }

    /// Whether `bytes[at]` is an `=` after `id`, `ch`, `ll` or `dr` (`at` >= 2).
    @inline(__always)
    private static func isCandidateEnd(_ bytes: UnsafePointer<UInt8>, _ at: Int) -> Bool {
        guard bytes[at] == equal else { return false }
        let pair = UInt16(bytes[at - 2]) | UInt16(bytes[at - 1]) << 8
        return pair == 0x6469 || pair == 0x6863 || pair == 0x6C6C || pair == 0x7264
    }

    /// A value as auparse keeps it: one trailing `:`, `,`, `'` and `)` removed, in that order
    /// (`)` stays on `(none)` and `(null)`).
    static func trimmed(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var end = value.count
        if value[end - 1] == UInt8(ascii: ":") { end -= 1 }
        if end > 0, value[end - 1] == UInt8(ascii: ",") { end -= 1 }
        if end > 0, value[end - 1] == UInt8(ascii: "'") { end -= 1 }
        if end > 0, value[end - 1] == UInt8(ascii: ")") {
            let kept = UnsafeRawBufferPointer(rebasing: value[..<end])
            if !equals(kept, "(none)"), !equals(kept, "(null)") { end -= 1 }
        }
        return UnsafeRawBufferPointer(rebasing: value[..<end])
    }

    /// Whether auparse refuses the record: an AVC permission list too long for its buffer (the
    /// list is the 3rd field, so only the head of the line is read).
    static func isRefused(_ line: UnsafeRawBufferPointer, type: AuditMessageType) -> Bool {
        var fields = RecordFields(line: line, type: type)
        while let field = fields.next(), field.index - fields.offset < 4 {}
        return fields.failed
    }

    // MARK: - Scanning eight bytes at a time

    /// See `Field.nameKey`.
    @inline(__always)
    private func packedName(_ start: Int, _ length: Int) -> UInt64 {
        guard length >= 2, length <= 9 else { return 0 }
        if start + 8 <= end {
            let word = UnsafeRawPointer(bytes).loadUnaligned(fromByteOffset: start, as: UInt64.self)
            return length >= 8 ? word : word & ((1 &<< UInt64(8 * length)) &- 1)
        }
        var key: UInt64 = 0
        for index in 0..<min(length, 8) { key |= UInt64(bytes[start + index]) << (8 * UInt64(index)) }
        return key
    }

    private static var ones: UInt64 { 0x0101_0101_0101_0101 }
    private static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// The high bit of each byte of `word` that is zero; the lowest one is exact.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }

    /// The end of the token starting at `index` (the next space, or `end`), noting its first `=`
    /// in `equals` (left alone when there is none).
    @inline(__always)
    private func tokenEnd(from index: Int, equals: inout Int) -> Int {
        var index = index
        let raw = UnsafeRawPointer(bytes)
        while index + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let spaces = Self.zeroBytes(word ^ (Self.ones &* 0x20))
            if equals < 0 {
                // Only an `=` before the first space counts; the lowest found byte is exact.
                let equalSigns = Self.zeroBytes(word ^ (Self.ones &* 0x3D))
                if equalSigns != 0, spaces == 0 || equalSigns.trailingZeroBitCount < spaces.trailingZeroBitCount {
                    equals = index + equalSigns.trailingZeroBitCount / 8
                }
            }
            if spaces != 0 { return index + spaces.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < end, bytes[index] != Self.space {
            if equals < 0, bytes[index] == Self.equal { equals = index }
            index += 1
        }
        return index
    }

    private static var space: UInt8 { 0x20 }
    private static var equal: UInt8 { 0x3D }

    // MARK: - Tokens

    private mutating func nextToken() -> Range<Int>? {
        while position < end, bytes[position] == Self.space { position += 1 }
        guard position < end else { return nil }
        let start = position
        while position < end, bytes[position] != Self.space { position += 1 }
        return start..<position
    }

    /// A word without `=` in an AVC record: `denied`/`granted` and the permission list count.
    private mutating func countAVCWord(_ token: Range<Int>) {
        if count == 1 + offset {
            let isAVCTag = token.count >= 3 && bytes[token.lowerBound] == UInt8(ascii: "a")
                && bytes[token.lowerBound + 1] == UInt8(ascii: "v") && bytes[token.lowerBound + 2] == UInt8(ascii: "c")
            if !isAVCTag { count += 1 }
        } else if count == 2 + offset {
            if bytes[token.lowerBound] == UInt8(ascii: "{") {
                // The words up to `}` are joined with commas into a 256-byte buffer.
                var total = 0
                while let word = nextToken(), bytes[word.lowerBound] != UInt8(ascii: "}") {
                    if word.count + 1 >= 256 - total {
                        failed = true
                        return
                    }
                    if total > 0 { total += 1 }
                    total += word.count
                }
            }
            count += 1
        }
    }

    // MARK: - Helpers

    private func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes + range.lowerBound, count: range.count)
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count where bytes[index] != text.utf8Start[index] { return false }
        return true
    }

    /// How many fields auparse makes of a `key=` value: one when quoted or not hex, else one per
    /// non-empty key in the decoded text (keys are separated by 0x01, the text ends at a NUL).
    static func keyCount(_ value: UnsafeRawBufferPointer) -> Int {
        if value.first == UInt8(ascii: "\"") { return 1 }
        var digits = 0
        while digits < value.count, SocketAddressText.hexValue(value[digits]) != nil { digits += 1 }
        guard digits >= 2 else { return 1 }
        var keys = 0
        var inKey = false
        var index = 0
        while index < digits {
            let high = SocketAddressText.hexValue(value[index])!
            let low = index + 1 < digits ? SocketAddressText.hexValue(value[index + 1])! : 0
            let byte = high << 4 | low
            if byte == 0 { break }
            if byte == 0x01 {
                inKey = false
            } else if !inKey {
                inKey = true
                keys += 1
            }
            index += 2
        }
        return keys
    }
}

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
