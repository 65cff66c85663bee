import SwiftProtobuf

/// Turns events into OTLP: one LogRecord per event, whose body is the event's lines (newline
/// separated, as auditd sent them) and whose attributes name the event and its subject.
struct LogRecordBuilder: Sendable {
    /// The record fields that become `audit.<name>` attributes, taken from the SYSCALL record if
    /// the event has one, else from the first record that has them.
    static let subjectFields = ["key", "auid", "uid", "pid", "exe", "comm", "syscall", "success"]
    /// Those sent as integers when their value is a decimal number.
    static let integerFields: Set<String> = ["auid", "uid", "pid"]

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
        var scopeLogs = OTLPScopeLogs()
        scopeLogs.scope = scope
        scopeLogs.logRecords = events.map(logRecord(for:))
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.resource = resource
        resourceLogs.scopeLogs = [scopeLogs]
        var request = OTLPExportLogsServiceRequest()
        request.resourceLogs = [resourceLogs]
        return request
    }

    func logRecord(for event: QueuedEvent) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.observedTimeUnixNano = event.observedUnixNanoseconds
        var body = OTLPAnyValue()
        body.stringValue = event.text
        record.body = body
        let records = event.text.split(separator: "\n").compactMap { RecordLine(String($0)) }
        guard let first = records.first else { return record }
        record.timeUnixNano = first.stamp.unixNanoseconds
        record.eventName = "audit." + first.typeName
        var attributes: [OTLPKeyValue] = [
            .string("audit.stamp", first.stamp.description),
            .integer("audit.serial", Int64(truncatingIfNeeded: first.stamp.serial)),
            .string("audit.type", first.typeName),
            .integer("audit.records", Int64(records.count)),
        ]
        if let node = first.node { attributes.append(.string("audit.node", node)) }
        let ordered = records.filter { $0.typeName == "SYSCALL" } + records.filter { $0.typeName != "SYSCALL" }
        let fields = ordered.map { RecordFields($0.body) }
        for name in Self.subjectFields {
            // `key=(null)` on the SYSCALL record means no rule key; a CONFIG_CHANGE may still name one.
            guard let value = fields.lazy.compactMap({ $0.first(name) }).first(where: { $0 != "(null)" }) else { continue }
            if Self.integerFields.contains(name), let number = Int64(value) {
                attributes.append(.integer("audit." + name, number))
            } else {
                attributes.append(.string("audit." + name, String(value)))
            }
        }
        record.attributes = attributes
        return record
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
