import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// The parts of one log line that say which event it belongs to:
/// `[node=N ]type=NAME msg=audit(SEC.MILLI:SERIAL): BODY[0x1D ENRICHMENT]`.
///
/// Offsets index the line they were read from. Reading never traps and never allocates for a
/// line without a node name.
public struct RecordHeader: Sendable {
    public var node: Range<Int>?
    public var typeName: Range<Int>
    /// libaudit's number for the type name (`UNKNOWN[1335]` included), or -1.
    public var type: Int32
    public var stamp: EventStamp
    /// From after `): ` to the 0x1D separator of an ENRICHED line, or to the end.
    public var body: Range<Int>
    /// After the 0x1D separator to the end, for an ENRICHED line.
    public var enrichment: Range<Int>?

    /// Why a line is not a record.
    public enum Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        case noType, noStamp, badStamp
        public var description: String {
            switch self {
            case .noType: "it does not start with [node=NAME ]type=NAME"
            case .noStamp: "it has no msg=audit(…) stamp after the type"
            case .badStamp: "its audit(SEC.MILLI:SERIAL) stamp is not three numbers"
            }
        }
    }

    static let separator: UInt8 = 0x1D

    /// Reads the header of `line` (without its newline).
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, types: inout MessageTypeLookup) -> Result<RecordHeader, Malformed> {
        let count = line.count
        var index = 0
        var node: Range<Int>?
        if starts(line, at: 0, with: "node=") {
            guard let space = firstIndex(of: 0x20, in: line, from: 5) else { return .failure(.noType) }
            node = 5..<space
            index = space + 1
        }
        guard starts(line, at: index, with: "type=") else { return .failure(.noType) }
        let nameStart = index + 5
        guard let nameEnd = firstIndex(of: 0x20, in: line, from: nameStart), nameEnd > nameStart else { return .failure(.noType) }
        index = nameEnd + 1
        guard starts(line, at: index, with: "msg=audit(") else { return .failure(.noStamp) }
        index += 10
        guard let seconds = number(line, &index, count), seconds <= UInt64(Int64.max),
              index < count, line[index] == UInt8(ascii: ".") else { return .failure(.badStamp) }
        index += 1
        guard let milli = number(line, &index, count), milli <= 999,
              index < count, line[index] == UInt8(ascii: ":") else { return .failure(.badStamp) }
        index += 1
        guard let serial = number(line, &index, count), index < count, line[index] == UInt8(ascii: ")") else {
            return .failure(.badStamp)
        }
        index += 1
        if index < count, line[index] == UInt8(ascii: ":") { index += 1 }
        if index < count, line[index] == 0x20 { index += 1 }
        var bodyEnd = count
        var enrichment: Range<Int>?
        if let separator = firstIndex(of: separator, in: line, from: index) {
            bodyEnd = separator
            enrichment = (separator + 1)..<count
        }
        let type = types.number(of: UnsafeBufferPointer(rebasing: line[nameStart..<nameEnd]))
        return .success(RecordHeader(
            node: node, typeName: nameStart..<nameEnd, type: type,
            stamp: EventStamp(seconds: Int64(seconds), milliseconds: UInt16(milli), serial: serial),
            body: index..<bodyEnd, enrichment: enrichment))
    }

    @inline(__always)
    static func starts(_ line: UnsafeBufferPointer<UInt8>, at index: Int, with prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard index + length <= line.count else { return false }
        let bytes = prefix.utf8Start
        for offset in 0..<length where line[index + offset] != bytes[offset] { return false }
        return true
    }

    @inline(__always)
    static func firstIndex(of byte: UInt8, in line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < line.count, let base = line.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), line.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// A decimal number of at most 19 digits at `index`, which moves past it.
    @inline(__always)
    static func number(_ line: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ count: Int) -> UInt64? {
        var value: UInt64 = 0
        let start = index
        while index < count, index - start < 19 {
            let digit = line[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ UInt64(digit)  // 19 digits cannot overflow: no checks needed
            index += 1
        }
        return index > start ? value : nil
    }
}

/// Type names to numbers through libaudit's table (the one auditd and ausearch use), remembering
/// the names already seen in a small direct-mapped table, so a line costs a few compares, not a
/// table search and a C string.
public struct MessageTypeLookup: Sendable {
    private struct Entry: Sendable {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var length = -1
        var type: Int32 = -1
    }
    private var entries = [Entry](repeating: Entry(), count: 256)

    public init() {}

    public mutating func number(of name: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard name.count <= 16 else { return Self.lookUp(name) }
        var head: UInt64 = 0, tail: UInt64 = 0
        for (index, byte) in name.enumerated() {
            if index < 8 { head |= UInt64(byte) << (8 * UInt64(index)) } else { tail |= UInt64(byte) << (8 * UInt64(index - 8)) }
        }
        let mixed = (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(name.count)
        let slot = Int(truncatingIfNeeded: (mixed >> 56) & 0xFF)
        let entry = entries[slot]
        if entry.length == name.count && entry.head == head && entry.tail == tail { return entry.type }
        let type = Self.lookUp(name)
        entries[slot] = Entry(head: head, tail: tail, length: name.count, type: type)
        return type
    }

    private static func lookUp(_ name: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard name.count < 64 else { return -1 }
        var text = [CChar](repeating: 0, count: name.count + 1)
        for (index, byte) in name.enumerated() { text[index] = CChar(bitPattern: byte) }
        return Int32(CAudit_message_type_number(text))
    }
}

extension MessageTypeLookup {
    /// libaudit's number for a type name given on a command line (`SYSCALL`, `syscall`,
    /// `UNKNOWN[1335]`, or a decimal number), or nil.
    public static func number(named name: String) -> Int32? {
        if let number = Int32(name), number >= 0 { return number }
        let number = CAudit_message_type_number(name.uppercased())
        return number >= 0 ? Int32(number) : nil
    }
}
