import CAudit

/// One event as one line of JSON (the schema is in the README, "follow --format json"):
///
///     {"stamp":{"sec":…,"ms":…,"serial":…},"node":null,"keys":["etc-open"],"records":[
///       {"type":"SYSCALL","fields":{"arch":"c000003e",…},"enriched":{"ARCH":"x86_64",…}},
///       {"type":"PROCTITLE","fields":{"proctitle":"cat /etc/hostname"},"argv":["cat","/etc/hostname"]}]}
///
/// Every value is a string, as the record wrote it, except that quotes are taken off and the
/// hex-encoded strings auditd writes for text holding a space or a control character are
/// decoded. Written on bytes, without Foundation; any byte gets through (see `JSONText`).
public struct EventJSONEncoder {
    private var scratch: [UInt8] = []
    private let writer = OutputBuffer()
    private var encodedNames = EncodedNameCache()

    public init() {}

    static let proctitleType: Int32 = 1327
    static let execveType: Int32 = 1309
    static let sockaddrType: Int32 = 1306

    /// Appends the event's JSON line, newline included.
    public mutating func encode(_ event: AuditEvent, into output: inout [UInt8]) {
        writer.removeAll()
        encode(event, into: writer)
        output.append(contentsOf: UnsafeBufferPointer(start: writer.base, count: writer.count))
    }

    /// Appends the event's JSON line, newline included.
    public mutating func encode(_ event: AuditEvent, into output: OutputBuffer) {
        event.bytes.withUnsafeBufferPointer { bytes in
            output.append("{\"stamp\":{\"sec\":")
            JSONText.appendNumber(event.stamp.seconds, to: output)
            output.append(",\"ms\":")
            JSONText.appendNumber(event.stamp.milliseconds, to: output)
            output.append(",\"serial\":")
            JSONText.appendNumber(event.stamp.serial, to: output)
            output.append("},\"node\":")
            if let node = event.node { JSONText.appendString(node, to: output) } else { output.append("null") }
            output.append(",\"keys\":[")
            var firstKey = true
            for record in event.records {
                RecordFields.forEach(in: bytes, range: record.body) { name, value in
                    guard FieldText.equals(bytes, name, "key") else { return }
                    for key in FieldText.keys(in: bytes, value) {
                        if !firstKey { output.append(UInt8(ascii: ",")) }
                        firstKey = false
                        JSONText.appendString(key, to: output)
                    }
                }
            }
            output.append("],\"records\":[")
            for (index, record) in event.records.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                encode(record, bytes, into: output)
            }
            output.append("]}\n")
        }
    }

    private mutating func encode(_ record: AuditEvent.Record, _ bytes: UnsafeBufferPointer<UInt8>, into output: OutputBuffer) {
        output.append("{\"type\":")
        JSONText.appendString(UnsafeBufferPointer(rebasing: bytes[record.typeName]), to: output)
        output.append(",\"fields\":{")
        var first = true
        var argv: [[UInt8]] = []
        var socketAddress: [UInt8]?
        let isExecve = record.type == Self.execveType
        RecordFields.forEach(in: bytes, range: record.body) { name, value in
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            JSONText.appendString(UnsafeBufferPointer(rebasing: bytes[name]), to: output)
            output.append(UInt8(ascii: ":"))
            // Most values are written straight from the line; only hex-encoded ones pass through a
            // buffer, and only PROCTITLE, EXECVE and SOCKADDR keep a copy.
            let encoded = encodedNames.contains(bytes, name, isExecve: isExecve) && FieldText.isHex(bytes, value)
            if encoded {
                decodeHex(bytes, value)
                scratch.withUnsafeBufferPointer { JSONText.appendString($0, to: output) }
            } else {
                JSONText.appendString(UnsafeBufferPointer(rebasing: bytes[Self.unquoted(bytes, value)]), to: output)
            }
            if record.type == Self.proctitleType && FieldText.equals(bytes, name, "proctitle") {
                let text = encoded ? scratch : Array(bytes[Self.unquoted(bytes, value)])
                argv = text.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
                if argv.last?.isEmpty == true { argv.removeLast() }
            } else if isExecve && Self.isArgument(bytes, name) {
                argv.append(encoded ? scratch : Array(bytes[Self.unquoted(bytes, value)]))
            } else if record.type == Self.sockaddrType && FieldText.equals(bytes, name, "saddr") && FieldText.isHex(bytes, value) {
                socketAddress = FieldText.decodeHex(bytes, value)
            }
        }
        output.append(UInt8(ascii: "}"))
        if record.type == Self.proctitleType || isExecve {
            output.append(",\"argv\":[")
            for (index, argument) in argv.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONText.appendString(argument, to: output)
            }
            output.append(UInt8(ascii: "]"))
        }
        if let socketAddress {
            output.append(",\"saddr\":")
            SocketAddress.appendJSON(socketAddress, to: output)
        }
        if let enrichment = record.enrichment {
            output.append(",\"enriched\":{")
            var firstName = true
            RecordFields.forEach(in: bytes, range: enrichment) { name, value in
                if !firstName { output.append(UInt8(ascii: ",")) }
                firstName = false
                JSONText.appendString(UnsafeBufferPointer(rebasing: bytes[name]), to: output)
                output.append(UInt8(ascii: ":"))
                JSONText.appendString(UnsafeBufferPointer(rebasing: bytes[Self.unquoted(bytes, value)]), to: output)
            }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "}"))
    }

    /// A value without its quotes, if it has them.
    @inline(__always)
    static func unquoted(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) -> Range<Int> {
        if value.count >= 2 {
            let quote = bytes[value.lowerBound]
            if (quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'")) && bytes[value.upperBound - 1] == quote {
                return (value.lowerBound + 1)..<(value.upperBound - 1)
            }
        }
        return value
    }

    /// Decodes a hex run into `scratch`.
    private mutating func decodeHex(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        scratch.removeAll(keepingCapacity: true)
        var index = range.lowerBound
        while index + 1 < range.upperBound {
            scratch.append(FieldText.nibble(bytes[index]) << 4 | FieldText.nibble(bytes[index + 1]))
            index += 2
        }
    }

    /// The fields the kernel and libaudit write with `audit_log_untrustedstring` /
    /// `audit_encode_value`: quoted when plain, hex when not.
    static let encodedNames: [StaticString] = [
        "proctitle", "comm", "exe", "cwd", "name", "path", "cmd", "key", "data", "acct", "dir",
        "ocomm", "watch", "new-disk", "old-disk", "vm", "root_dir", "hostname", "old", "new",
        "old-chardev", "new-chardev", "old-fs", "new-fs", "device", "subj", "grp", "new_group",
    ]

    static func isEncodedString(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>, isExecve: Bool) -> Bool {
        if isExecve && isArgument(bytes, name) { return true }
        guard let first = name.first.map({ bytes[$0] }), encodedFirstBytes & (1 << UInt64(first & 63)) != 0 else { return false }
        for candidate in encodedNames where FieldText.equals(bytes, name, candidate) { return true }
        return false
    }

    /// The first letters of `encodedNames`, as bits: most names are rejected by one test.
    static let encodedFirstBytes: UInt64 = encodedNames.reduce(0) { $0 | (1 << UInt64($1.utf8Start[0] & 63)) }

    /// `a0`, `a1`, … of an EXECVE record (not `argc`, not `a0_len`; `a0[1]` pieces are parts of one).
    static func isArgument(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Bool {
        guard name.count >= 2, bytes[name.lowerBound] == UInt8(ascii: "a") else { return false }
        for index in (name.lowerBound + 1)..<name.upperBound {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 { continue }
            return false
        }
        return true
    }
}

/// `EventJSONEncoder.isEncodedString`, remembered per name in a small direct-mapped table: a
/// record's names repeat, and comparing each with the list costs more than the rest of the field.
struct EncodedNameCache {
    private struct Entry {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var length = -1
        var encoded = false
    }
    private var entries = [Entry](repeating: Entry(), count: 512)

    @inline(__always)
    mutating func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>, isExecve: Bool) -> Bool {
        if isExecve { return EventJSONEncoder.isEncodedString(bytes, name, isExecve: true) }
        guard name.count <= 16 else { return EventJSONEncoder.isEncodedString(bytes, name, isExecve: false) }
        var head: UInt64 = 0, tail: UInt64 = 0
        var shift: UInt64 = 0
        for index in name {
            if shift < 64 { head |= UInt64(bytes[index]) << shift } else { tail |= UInt64(bytes[index]) << (shift - 64) }
            shift += 8
        }
        let mixed = (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(name.count)
        let slot = Int(truncatingIfNeeded: mixed >> 55)
        let entry = entries[slot]
        if entry.length == name.count && entry.head == head && entry.tail == tail { return entry.encoded }
        let encoded = EventJSONEncoder.isEncodedString(bytes, name, isExecve: false)
        entries[slot] = Entry(head: head, tail: tail, length: name.count, encoded: encoded)
        return encoded
    }
}
