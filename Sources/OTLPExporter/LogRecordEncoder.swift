import AuditProtocol
import AuditEvents

/// Turns an event into one OTLP `LogRecord`, encoded: its body is the event's lines (newline
/// separated, as auditd sent them) and its attributes name the event and its subject.
///
/// It writes the protobuf bytes itself, straight from the event's bytes and the record positions
/// the assembler already found, because building the generated messages (a String and a KeyValue
/// per attribute) and serialising them took most of the plugin's CPU at full rate (`perf`, `make
/// bench-otlp`). The result is exactly what the generated code writes for the same message
/// (`LogRecordEncoderTests` decodes it with the generated code and compares the re-encoding byte
/// for byte; the receiver tests decode it with opentelemetry-proto). Field numbers are those of
/// `Protos/otlp_logs.proto`; fields go out in field-number order, as the generated code writes them.
struct LogRecordEncoder {
    /// The record fields that become `audit.<name>` attributes, taken from the SYSCALL record if
    /// the event has one, else from the first record that has them (inside a user message's
    /// `msg='...'` too). `auid`, `uid` and `pid` are sent as integers when their value is a decimal
    /// number; `key`, `exe` and `comm` are decoded (auditd writes them quoted or hex-encoded); the
    /// rest as written ("44" is a system call, not hex).
    static let subjectAttributes: [StaticString] = [
        "audit.key", "audit.auid", "audit.uid", "audit.pid", "audit.exe", "audit.comm", "audit.syscall", "audit.success",
    ]
    static let keyField = 0, auidField = 1, uidField = 2, pidField = 3, exeField = 4, commField = 5
    static let syscallField = 6, successField = 7

    /// Which subject field the field name at `range` is, compared in place: this runs for every
    /// field of the records scanned.
    @inline(__always)
    static func subjectField(named range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        switch range.count {
        case 3:
            if FieldText.equals(bytes, range, "key") { return keyField }
            if FieldText.equals(bytes, range, "uid") { return uidField }
            if FieldText.equals(bytes, range, "pid") { return pidField }
            if FieldText.equals(bytes, range, "exe") { return exeField }
        case 4:
            if FieldText.equals(bytes, range, "auid") { return auidField }
            if FieldText.equals(bytes, range, "comm") { return commField }
        case 7:
            if FieldText.equals(bytes, range, "syscall") { return syscallField }
            if FieldText.equals(bytes, range, "success") { return successField }
        default:
            break
        }
        return nil
    }

    static let syscallType: Int32 = 1300  // AUDIT_SYSCALL

    // LogRecord's fields (logs.proto), and those of the messages inside it.
    static let timeField: UInt8 = 1, bodyField: UInt8 = 5, attributesField: UInt8 = 6, observedTimeField: UInt8 = 11
    static let eventNameField: UInt8 = 12
    static let keyValueKey: UInt8 = 1, keyValueValue: UInt8 = 2
    static let anyString: UInt8 = 1, anyInt: UInt8 = 3

    /// Attribute values as they will be sent (decoded, joined), reused from event to event.
    private var values: [UInt8] = []
    /// Where each subject field's value is in `values`, by `subjectAttributes` index.
    private var found = [Range<Int>?](repeating: nil, count: 8)

    init() {
        values.reserveCapacity(4096)
    }

    /// Appends `event`'s LogRecord message (without a tag or length before it) to `out`.
    mutating func encode(_ event: AuditEvent, observedUnixNanoseconds: UInt64, into out: inout [UInt8]) {
        event.bytes.withUnsafeBufferPointer { bytes in
            encode(event, bytes: bytes, observedUnixNanoseconds: observedUnixNanoseconds, into: &out)
        }
    }

    private mutating func encode(_ event: AuditEvent, bytes: UnsafeBufferPointer<UInt8>, observedUnixNanoseconds: UInt64,
                                 into out: inout [UInt8]) {
        values.removeAll(keepingCapacity: true)
        for index in found.indices { found[index] = nil }
        let stamp = event.stamp
        let time = UInt64(max(0, stamp.seconds)) &* 1_000_000_000 &+ UInt64(stamp.milliseconds) &* 1_000_000
        if time != 0 { ProtobufWire.appendFixed64(field: Self.timeField, time, to: &out) }

        // body: the lines without the last newline.
        let bodyEnd = bytes.last == 0x0A ? bytes.count - 1 : bytes.count
        Self.appendAnyValueString(field: Self.bodyField, UnsafeBufferPointer(rebasing: bytes[0..<bodyEnd]), to: &out)

        if let first = event.records.first {
            let stampText = appendStampText(stamp)
            values.withUnsafeBufferPointer { text in
                Self.appendStringAttribute("audit.stamp", UnsafeBufferPointer(rebasing: text[stampText]), to: &out)
            }
            Self.appendIntegerAttribute("audit.serial", Int64(truncatingIfNeeded: stamp.serial), to: &out)
            Self.appendStringAttribute("audit.type", UnsafeBufferPointer(rebasing: bytes[first.typeName]), to: &out)
            Self.appendIntegerAttribute("audit.records", Int64(event.records.count), to: &out)
            if let node = event.node {
                node.withUnsafeBufferPointer { Self.appendStringAttribute("audit.node", $0, to: &out) }
            }
            findSubject(of: event, in: bytes)
            values.withUnsafeBufferPointer { text in
                for (field, name) in Self.subjectAttributes.enumerated() {
                    guard let range = found[field] else { continue }
                    let value = UnsafeBufferPointer(rebasing: text[range])
                    if field == Self.auidField || field == Self.uidField || field == Self.pidField, let number = Self.integer(value) {
                        Self.appendIntegerAttribute(name, number, to: &out)
                    } else {
                        Self.appendStringAttribute(name, value, to: &out)
                    }
                }
            }
        }

        if observedUnixNanoseconds != 0 {
            ProtobufWire.appendFixed64(field: Self.observedTimeField, observedUnixNanoseconds, to: &out)
        }
        if let first = event.records.first {
            // event_name: "audit." and the first record's type name.
            let typeName = UnsafeBufferPointer(rebasing: bytes[first.typeName])
            let prefix: StaticString = "audit."
            if Self.isASCII(typeName) {
                ProtobufWire.appendHeader(field: Self.eventNameField, length: prefix.utf8CodeUnitCount + typeName.count, to: &out)
                out.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
                out.append(contentsOf: typeName)
            } else {
                let name = Array(("audit." + String(decoding: typeName, as: UTF8.self)).utf8)
                ProtobufWire.appendHeader(field: Self.eventNameField, length: name.count, to: &out)
                out.append(contentsOf: name)
            }
        }
    }

    /// `sec.mmm:serial` (EventStamp's text), written into `values`; returns where.
    private mutating func appendStampText(_ stamp: EventStamp) -> Range<Int> {
        let start = values.count
        if stamp.seconds < 0 { values.append(UInt8(ascii: "-")) }
        Self.appendDecimal(stamp.seconds.magnitude, to: &values)
        values.append(UInt8(ascii: "."))
        let milli = stamp.milliseconds
        if milli < 100 { values.append(UInt8(ascii: "0")) }
        if milli < 10 { values.append(UInt8(ascii: "0")) }
        Self.appendDecimal(UInt64(milli), to: &values)
        values.append(UInt8(ascii: ":"))
        Self.appendDecimal(stamp.serial, to: &values)
        return start..<values.count
    }

    /// Fills `found` from the SYSCALL records first, then the others, until every field is found.
    private mutating func findSubject(of event: AuditEvent, in bytes: UnsafeBufferPointer<UInt8>) {
        var missing = found.count
        for pass in 0..<2 {
            for record in event.records where (record.type == Self.syscallType) == (pass == 0) {
                guard missing > 0 else { return }
                Self.forEachField(in: bytes, range: record.body) { name, value in
                    guard let field = Self.subjectField(named: name, in: bytes), found[field] == nil else { return }
                    let start = values.count
                    switch field {
                    case Self.keyField:
                        // `key=(null)` on the SYSCALL record means no rule key; a CONFIG_CHANGE may still name one.
                        guard !FieldText.equals(bytes, value, "(null)") else { return }
                        appendKeys(bytes, value)
                        guard values.count > start else { return }
                    case Self.exeField, Self.commField:
                        // Quoted, or hex when the text holds a space or a quote.
                        FieldText.appendString(bytes, value, to: &values)
                    default:
                        values.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[value]))
                    }
                    found[field] = start..<values.count
                    missing -= 1
                }
            }
        }
    }

    /// A `key=` value's keys (one quoted key, or several hex-encoded and joined by 0x01,
    /// `AUDIT_KEY_SEPARATOR`), joined by commas, empty ones left out.
    private mutating func appendKeys(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) {
        let decodedStart = values.count
        FieldText.appendString(bytes, value, to: &values)
        let decodedEnd = values.count
        var separatorPending = false
        var wrote = false
        for index in decodedStart..<decodedEnd {
            let byte = values[index]
            if byte == 0x01 {
                separatorPending = wrote
                continue
            }
            if separatorPending { values.append(UInt8(ascii: ",")); separatorPending = false }
            values.append(byte)
            wrote = true
        }
        // The joined keys replace the decoded text they were made from.
        values.removeSubrange(decodedStart..<decodedEnd)
    }

    /// `RecordFields.forEach`, also into a user-space message's `msg='...'`, whose fields are the
    /// sending program's (exe, res, acct, ...).
    static func forEachField(in bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, _ body: (Range<Int>, Range<Int>) -> Void) {
        RecordFields.forEach(in: bytes, range: range) { name, value in
            if FieldText.equals(bytes, name, "msg"), value.count >= 2, bytes[value.lowerBound] == UInt8(ascii: "'") {
                let inner = (value.lowerBound + 1)..<(bytes[value.upperBound - 1] == UInt8(ascii: "'") ? value.upperBound - 1 : value.upperBound)
                forEachField(in: bytes, range: inner, body)
            } else {
                body(name, value)
            }
        }
    }

    /// A decimal number as `Int64(String)` reads one (an optional sign, digits, no overflow), or nil.
    static func integer(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        var negative = false
        if let sign = text.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            index = 1
        }
        guard index < text.count else { return nil }
        var magnitude: UInt64 = 0
        while index < text.count {
            let digit = text[index] &- 0x30
            guard digit < 10 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    // MARK: Writing fields

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        DecimalDigits.with(value) { out.append(contentsOf: $0) }
    }

    /// Whether every byte is below 0x80: valid UTF-8 without a look at the sequences (8 at a time).
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        var bits: UInt64 = 0
        while index + 8 <= bytes.count {
            bits |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count { bits |= UInt64(bytes[index]); index += 1 }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    /// Calls `body` with `text` as a protobuf string must hold it: UTF-8, anything that is not
    /// replaced by U+FFFD as `String(decoding:as:)` does. Only text with a byte above 0x7F pays
    /// for the check (and an allocation).
    @inline(__always)
    static func withValidUTF8<R>(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if isASCII(text) { return body(text) }
        var repaired = String(decoding: text, as: UTF8.self)
        return repaired.withUTF8(body)
    }

    /// An AnyValue holding `text`, as field `field`.
    static func appendAnyValueString(field: UInt8, _ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        withValidUTF8(text) { text in
            ProtobufWire.appendHeader(field: field, length: ProtobufWire.fieldSize(length: text.count), to: &out)
            ProtobufWire.appendHeader(field: anyString, length: text.count, to: &out)
            out.append(contentsOf: text)
        }
    }

    /// A KeyValue attribute `key` = the string `text`.
    static func appendStringAttribute(_ key: StaticString, _ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        withValidUTF8(text) { text in
            let anyValue = ProtobufWire.fieldSize(length: text.count)
            appendKeyValueHeader(key, valueLength: anyValue, to: &out)
            ProtobufWire.appendHeader(field: anyString, length: text.count, to: &out)
            out.append(contentsOf: text)
        }
    }

    /// A KeyValue attribute `key` = the integer `value`.
    static func appendIntegerAttribute(_ key: StaticString, _ value: Int64, to out: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        appendKeyValueHeader(key, valueLength: 1 + ProtobufWire.varintSize(bits), to: &out)
        out.append(ProtobufWire.tag(anyInt, ProtobufWire.varint))
        ProtobufWire.appendVarint(bits, to: &out)
    }

    /// An attribute's field header, its KeyValue's key, and the header of its AnyValue of
    /// `valueLength` bytes, which the caller writes next.
    @inline(__always)
    static func appendKeyValueHeader(_ key: StaticString, valueLength: Int, to out: inout [UInt8]) {
        let keyLength = key.utf8CodeUnitCount
        let keyValue = ProtobufWire.fieldSize(length: keyLength) + ProtobufWire.fieldSize(length: valueLength)
        ProtobufWire.appendHeader(field: attributesField, length: keyValue, to: &out)
        ProtobufWire.appendHeader(field: keyValueKey, length: keyLength, to: &out)
        out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: keyLength))
        ProtobufWire.appendHeader(field: keyValueValue, length: valueLength, to: &out)
    }
}
