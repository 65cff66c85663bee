/// The protobuf wire format's few pieces the plugin writes by hand (protobuf's encoding.md:
/// varints, tags, length-delimited and fixed64 fields). Only `LogRecordEncoder` and
/// `ExportRequestFraming` use them, for the per-event part of a request; every message they write
/// is checked in the tests by decoding it with the generated code and with opentelemetry-proto.
enum ProtobufWire {
    /// Wire types (encoding.md, "Message Structure").
    static let varint: UInt8 = 0, fixed64: UInt8 = 1, lengthDelimited: UInt8 = 2

    /// A field's tag: its number and wire type, as one byte (every field number here is below 16).
    @inline(__always)
    static func tag(_ field: UInt8, _ wireType: UInt8) -> UInt8 { field << 3 | wireType }

    /// Bytes of `value` as a varint.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 { size += 1; rest >>= 7 }
        return size
    }

    @inline(__always)
    static func varintSize(_ value: Int) -> Int { varintSize(UInt64(value)) }

    @inline(__always)
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    @inline(__always)
    static func appendVarint(_ value: Int, to out: inout [UInt8]) { appendVarint(UInt64(value), to: &out) }

    /// A length-delimited field's tag and length; its `length` bytes follow.
    @inline(__always)
    static func appendHeader(field: UInt8, length: Int, to out: inout [UInt8]) {
        out.append(tag(field, lengthDelimited))
        appendVarint(length, to: &out)
    }

    /// Bytes of a length-delimited field whose content is `length` bytes: tag, length, content.
    @inline(__always)
    static func fieldSize(length: Int) -> Int { 1 + varintSize(length) + length }

    @inline(__always)
    static func appendFixed64(field: UInt8, _ value: UInt64, to out: inout [UInt8]) {
        out.append(tag(field, fixed64))
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
