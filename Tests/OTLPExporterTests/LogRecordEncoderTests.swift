import AuditEvents
import SwiftProtobuf
import Testing
@testable import OTLPExporter

/// The hand-written LogRecord and request encodings, read back with the generated code (the
/// receiver tests read them with opentelemetry-proto).
@Suite struct LogRecordEncoderTests {
    let framing = ExportRequestFraming(hostName: "web-1", serviceName: "swift-auditd", version: "test")

    /// The one event `text`'s lines make, as the plugin's assembler makes it.
    static func event(_ text: String) throws -> AuditEvent {
        var assembler = EventAssembler()
        for line in text.split(separator: "\n") {
            Array(line.utf8).withUnsafeBufferPointer { _ = assembler.add(line: $0) }
        }
        assembler.finish()
        let first = assembler.nextEvent(), second = assembler.nextEvent()
        #expect(second == nil, "more than one event")
        return try #require(first)
    }

    /// `text`'s event encoded, checked to be exactly what the generated code writes for the
    /// message it decodes to, and that message.
    func logRecord(_ text: String, observed: UInt64 = 0) throws -> OTLPLogRecord {
        var encoder = LogRecordEncoder()
        var bytes: [UInt8] = []
        encoder.encode(try Self.event(text), observedUnixNanoseconds: observed, into: &bytes)
        let record = try OTLPLogRecord(serializedBytes: bytes)
        #expect(try record.serializedBytes() == bytes, "not the generated code's encoding")
        return record
    }

    func attributes(_ record: OTLPLogRecord) -> [String: String] {
        Dictionary(uniqueKeysWithValues: record.attributes.map { pair in
            switch pair.value.value {
            case .stringValue(let text): (pair.key, text)
            case .intValue(let number): (pair.key, "int:\(number)")
            default: (pair.key, "?")
            }
        })
    }

    @Test func aSyscallEventGivesItsSubjectAsAttributesAndItsLinesAsBody() throws {
        let text = """
            type=CONFIG_CHANGE msg=audit(1795706559.845:3587213): auid=4294967295 ses=4294967295 op=add_rule key="enrich-watch" list=4 res=1
            type=SYSCALL msg=audit(1795706559.845:3587213): arch=c000003e syscall=44 success=yes exit=1092 ppid=26745 pid=26806 auid=4294967295 uid=0 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)
            type=PROCTITLE msg=audit(1795706559.845:3587213): proctitle=617564
            """
        let record = try logRecord(text, observed: 5)
        #expect(record.body.stringValue == text)
        #expect(record.timeUnixNano == 1_795_706_559_845_000_000)
        #expect(record.observedTimeUnixNano == 5)
        #expect(record.eventName == "audit.CONFIG_CHANGE")
        #expect(attributes(record) == [
            "audit.stamp": "1795706559.845:3587213", "audit.serial": "int:3587213", "audit.type": "CONFIG_CHANGE",
            "audit.records": "int:3", "audit.key": "enrich-watch", "audit.auid": "int:4294967295", "audit.uid": "int:0",
            "audit.pid": "int:26806", "audit.exe": "/usr/sbin/auditctl", "audit.comm": "auditctl", "audit.syscall": "44",
            "audit.success": "yes",
        ])
    }

    @Test func aUserMessageGivesTheFieldsInsideItsMsg() throws {
        let text = "node=web-1 type=USER_START msg=audit(1795706564.445:3587323): pid=27036 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"enrichtest\" exe=\"/usr/sbin/runuser\" hostname=? addr=? terminal=? res=success'\u{1D}UID=\"root\""
        let found = attributes(try logRecord(text))
        #expect(found["audit.node"] == "web-1")
        #expect(found["audit.exe"] == "/usr/sbin/runuser")
        #expect(found["audit.pid"] == "int:27036")
        #expect(found["audit.auid"] == "int:1000")
        #expect(found["audit.syscall"] == nil)
    }

    @Test func aHexEncodedCommIsDecodedButNumbersStayAsWritten() throws {
        let text = "type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=59 success=no pid=7 comm=6D7920746F6F6C exe=\"/opt/my tool\" key=(null)"
        let found = attributes(try logRecord(text))
        #expect(found["audit.comm"] == "my tool")
        #expect(found["audit.syscall"] == "59")
        #expect(found["audit.success"] == "no")
        #expect(found["audit.key"] == nil)
    }

    /// A stamp's numbers are as long as the log writes them (the reader takes up to 19 digits).
    @Test func aStampWithLongNumbersIsWrittenWhole() throws {
        let found = attributes(try logRecord("type=USER msg=audit(1234567890123456789.005:9876543210987654321): pid=1 msg='op=x res=success'"))
        #expect(found["audit.stamp"] == "1234567890123456789.005:9876543210987654321")
        var text: [UInt8] = []
        LogRecordEncoder.appendDecimal(UInt64.max, to: &text)
        #expect(String(decoding: text, as: UTF8.self) == "18446744073709551615")
    }

    @Test func severalKeysAreJoinedAndAKeylessSyscallLeavesTheKeyToALaterRecord() throws {
        // Two rule keys, hex-encoded and joined by 0x01 ("a", "", "bc").
        let joined = attributes(try logRecord("type=SYSCALL msg=audit(1.000:3): syscall=2 key=6101016263"))
        #expect(joined["audit.key"] == "a,bc")
        let later = attributes(try logRecord("""
            type=SYSCALL msg=audit(1.000:4): syscall=44 key=(null)
            type=CONFIG_CHANGE msg=audit(1.000:4): op=add_rule key="watch" res=1
            """))
        #expect(later["audit.key"] == "watch")
    }

    @Test func bytesThatAreNotUTF8AreSentAsTheReplacementCharacter() throws {
        // An exe hex-encoded by the kernel holds a byte (0xFF) that is not UTF-8: protobuf strings must be.
        let text = "type=SYSCALL msg=audit(1.000:5): syscall=59 pid=-3 uid=+7 auid=99999999999999999999 exe=2F62696EFF comm=\"\u{E9}t\u{E9}\""
        let record = try logRecord(text)
        let found = attributes(record)
        #expect(found["audit.exe"] == "/bin\u{FFFD}")
        #expect(found["audit.comm"] == "\u{E9}t\u{E9}")
        // Numbers as Int64(String) reads them; one too large for it stays text.
        #expect(found["audit.pid"] == "int:-3")
        #expect(found["audit.uid"] == "int:7")
        #expect(found["audit.auid"] == "99999999999999999999")
        #expect(record.body.stringValue == text)
    }

    @Test func aRequestIsWhatTheGeneratedCodeWritesForTheSameRecords() throws {
        var encoder = LogRecordEncoder()
        var frames: [[UInt8]] = []
        for serial in 1...3 {
            var bytes: [UInt8] = []
            encoder.encode(try Self.event("type=USER msg=audit(1.000:\(serial)): pid=\(serial)"), observedUnixNanoseconds: 9, into: &bytes)
            frames.append(bytes)
        }
        let body = framing.request(records: frames.map { $0[...] })
        let request = try OTLPExportLogsServiceRequest(serializedBytes: body)
        #expect(try request.serializedBytes() == body)
        let resource = try #require(request.resourceLogs.first?.resource)
        #expect(resource.attributes.map(\.key) == ["host.name", "service.name", "service.version"])
        #expect(resource.attributes[0].value.stringValue == "web-1")
        #expect(request.resourceLogs[0].scopeLogs[0].scope.name == "swift-auditd-otlp")
        let records = request.resourceLogs[0].scopeLogs[0].logRecords
        #expect(records.map { attributes($0)["audit.stamp"] } == ["1.000:1", "1.000:2", "1.000:3"])
        #expect(records.map(\.observedTimeUnixNano) == [9, 9, 9])
    }
}
