import AuditEvents
import SwiftProtobuf

/// Turns events into OTLP: one LogRecord per event, whose body is the event's lines (newline
/// separated, as auditd sent them) and whose attributes name the event and its subject. Lines and
/// fields are read with AuditEvents' `RecordHeader` and `RecordFields`, as `follow` reads them.
struct LogRecordBuilder: Sendable {
    /// The record fields that become `audit.<name>` attributes, taken from the SYSCALL record if
    /// the event has one, else from the first record that has them (inside a user message's
    /// `msg='...'` too).
    static let subjectFields = ["key", "auid", "uid", "pid", "exe", "comm", "syscall", "success"]
    static let keyField = 0, auidField = 1, uidField = 2, pidField = 3, exeField = 4, commField = 5
    /// `auid`, `uid` and `pid` are sent as integers when their value is a decimal number; `exe` and
    /// `comm` are decoded (auditd writes them quoted or hex-encoded); the rest as written.

    /// Which of `subjectFields` the field name at `range` is, compared in place: this runs for
    /// every field of every record.
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
            if FieldText.equals(bytes, range, "syscall") { return 6 }
            if FieldText.equals(bytes, range, "success") { return 7 }
        default:
            break
        }
        return nil
    }

    static let syscallType: Int32 = 1300  // AUDIT_SYSCALL

    let resource: OTLPResource
    let scope: OTLPInstrumentationScope

    init(hostName: String, serviceName: String, version: String) {
        var resource = OTLPResource()
        resource.attributes = [
            .string("host.name", hostName),
            .string("service.name", serviceName),
            .string("service.version", version),
        ]
        self.resource = resource
        var scope = OTLPInstrumentationScope()
        scope.name = "swift-auditd-otlp"
        scope.version = version
        self.scope = scope
    }

    func request(for events: [QueuedEvent]) -> OTLPExportLogsServiceRequest {
        var types = MessageTypeLookup()
        var scopeLogs = OTLPScopeLogs()
        scopeLogs.scope = scope
        scopeLogs.logRecords = events.map { logRecord(for: $0, types: &types) }
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.resource = resource
        resourceLogs.scopeLogs = [scopeLogs]
        var request = OTLPExportLogsServiceRequest()
        request.resourceLogs = [resourceLogs]
        return request
    }

    func logRecord(for event: QueuedEvent) -> OTLPLogRecord {
        var types = MessageTypeLookup()
        return logRecord(for: event, types: &types)
    }

    func logRecord(for event: QueuedEvent, types: inout MessageTypeLookup) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.observedTimeUnixNano = event.observedUnixNanoseconds
        record.body.stringValue = event.text
        event.lines.withUnsafeBufferPointer { bytes in
            // Each record's header, with its ranges moved from its line into the whole buffer.
            var headers: [(header: RecordHeader, offset: Int)] = []
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                if case .success(let header) = RecordHeader.parse(UnsafeBufferPointer(rebasing: bytes[start..<end]), types: &types) {
                    headers.append((header, start))
                }
                start = end + 1
            }
            guard let first = headers.first else { return }
            func text(_ range: Range<Int>, _ offset: Int) -> String {
                String(decoding: bytes[(range.lowerBound + offset)..<(range.upperBound + offset)], as: UTF8.self)
            }
            let stamp = first.header.stamp
            record.timeUnixNano = UInt64(max(0, stamp.seconds)) &* 1_000_000_000 &+ UInt64(stamp.milliseconds) &* 1_000_000
            let typeName = text(first.header.typeName, first.offset)
            record.eventName = "audit." + typeName
            var attributes: [OTLPKeyValue] = [
                .string("audit.stamp", stamp.description),
                .integer("audit.serial", Int64(truncatingIfNeeded: stamp.serial)),
                .string("audit.type", typeName),
                .integer("audit.records", Int64(headers.count)),
            ]
            if let node = first.header.node { attributes.append(.string("audit.node", text(node, first.offset))) }
            let ordered = headers.filter { $0.header.type == Self.syscallType } + headers.filter { $0.header.type != Self.syscallType }
            var found = [String?](repeating: nil, count: Self.subjectFields.count)
            for (header, offset) in ordered {
                Self.forEachField(in: bytes, range: (header.body.lowerBound + offset)..<(header.body.upperBound + offset)) { name, value in
                    guard let field = Self.subjectField(named: name, in: bytes), found[field] == nil else { return }
                    switch field {
                    case Self.keyField:
                        // `key=(null)` on the SYSCALL record means no rule key; a CONFIG_CHANGE may still name one.
                        let keys = FieldText.keys(in: bytes, value)
                        if !keys.isEmpty { found[field] = keys.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") }
                    case Self.exeField, Self.commField:
                        // Quoted, or hex when the text holds a space or a quote.
                        found[field] = String(decoding: FieldText.string(bytes, value), as: UTF8.self)
                    default:
                        // Numbers and words as written: "44" is a system call, not hex.
                        found[field] = String(decoding: bytes[value], as: UTF8.self)
                    }
                }
            }
            for (field, name) in Self.subjectFields.enumerated() {
                guard let value = found[field] else { continue }
                if field == Self.auidField || field == Self.uidField || field == Self.pidField, let number = Int64(value) {
                    attributes.append(.integer("audit." + name, number))
                } else {
                    attributes.append(.string("audit." + name, value))
                }
            }
            record.attributes = attributes
        }
        return record
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
}

extension OTLPKeyValue {
    static func string(_ key: String, _ value: String) -> OTLPKeyValue {
        var pair = OTLPKeyValue()
        pair.key = key
        pair.value.stringValue = value
        return pair
    }

    static func integer(_ key: String, _ value: Int64) -> OTLPKeyValue {
        var pair = OTLPKeyValue()
        pair.key = key
        pair.value.intValue = value
        return pair
    }
}
