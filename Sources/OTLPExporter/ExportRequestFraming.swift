import SwiftProtobuf

/// Puts encoded LogRecords (`LogRecordEncoder`, as the queue holds them) into one
/// `ExportLogsServiceRequest`: one ResourceLogs with the host's resource, one ScopeLogs with the
/// plugin's scope, and the records. The resource and the scope are encoded once, by the generated
/// code; a request is then their bytes, a few lengths, and the records copied in.
struct ExportRequestFraming: Sendable {
    /// `Resource` and `InstrumentationScope`, each as field 1 of the message that holds it.
    let resourceField: [UInt8]
    let scopeField: [UInt8]

    // ExportLogsServiceRequest.resource_logs, ResourceLogs.scope_logs, ScopeLogs.log_records.
    static let resourceLogsField: UInt8 = 1, scopeLogsField: UInt8 = 2, logRecordsField: UInt8 = 2

    init(hostName: String, serviceName: String, version: String) {
        var resource = OTLPResource()
        resource.attributes = [
            .string("host.name", hostName),
            .string("service.name", serviceName),
            .string("service.version", version),
        ]
        var scope = OTLPInstrumentationScope()
        scope.name = "swift-auditd-otlp"
        scope.version = version
        // Encoding these small messages of our own making cannot fail.
        resourceField = Self.field(1, (try? resource.serializedBytes()) ?? [])
        scopeField = Self.field(1, (try? scope.serializedBytes()) ?? [])
    }

    /// The request holding `records` (each an encoded LogRecord), in their order.
    func request(records: [ArraySlice<UInt8>]) -> [UInt8] {
        var recordBytes = 0
        for record in records { recordBytes += ProtobufWire.fieldSize(length: record.count) }
        let scopeLogs = scopeField.count + recordBytes
        let resourceLogs = resourceField.count + ProtobufWire.fieldSize(length: scopeLogs)
        var out: [UInt8] = []
        out.reserveCapacity(ProtobufWire.fieldSize(length: resourceLogs))
        ProtobufWire.appendHeader(field: Self.resourceLogsField, length: resourceLogs, to: &out)
        out += resourceField
        ProtobufWire.appendHeader(field: Self.scopeLogsField, length: scopeLogs, to: &out)
        out += scopeField
        for record in records {
            ProtobufWire.appendHeader(field: Self.logRecordsField, length: record.count, to: &out)
            out += record
        }
        return out
    }

    private static func field(_ number: UInt8, _ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        ProtobufWire.appendHeader(field: number, length: message.count, to: &out)
        return out + message
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
