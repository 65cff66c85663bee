import Testing
@testable import OTLPExporter

@Suite struct LogRecordBuilderTests {
    let builder = LogRecordBuilder(hostName: "web-1", serviceName: "swift-auditd", version: "test")

    func attributes(_ record: OTLPLogRecord) -> [String: String] {
        Dictionary(uniqueKeysWithValues: record.attributes.map { pair in
            switch pair.value.value {
            case .stringValue(let text): (pair.key, text)
            case .intValue(let number): (pair.key, "int:\(number)")
            default: (pair.key, "?")
            }
        })
    }

    @Test func aSyscallEventGivesItsSubjectAsAttributesAndItsLinesAsBody() {
        let text = """
            type=CONFIG_CHANGE msg=audit(1795706559.845:3587213): auid=4294967295 ses=4294967295 op=add_rule key="enrich-watch" list=4 res=1
            type=SYSCALL msg=audit(1795706559.845:3587213): arch=c000003e syscall=44 success=yes exit=1092 ppid=26745 pid=26806 auid=4294967295 uid=0 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)
            type=PROCTITLE msg=audit(1795706559.845:3587213): proctitle=617564
            """
        let record = builder.logRecord(for: QueuedEvent(observedUnixNanoseconds: 5, text: text))
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

    @Test func aUserMessageGivesTheFieldsInsideItsMsg() {
        let text = "node=web-1 type=USER_START msg=audit(1795706564.445:3587323): pid=27036 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"enrichtest\" exe=\"/usr/sbin/runuser\" hostname=? addr=? terminal=? res=success'\u{1D}UID=\"root\""
        let record = builder.logRecord(for: QueuedEvent(observedUnixNanoseconds: 0, text: text))
        let found = attributes(record)
        #expect(found["audit.node"] == "web-1")
        #expect(found["audit.exe"] == "/usr/sbin/runuser")
        #expect(found["audit.pid"] == "int:27036")
        #expect(found["audit.auid"] == "int:1000")
        #expect(found["audit.syscall"] == nil)
    }

    @Test func aHexEncodedCommIsDecodedButNumbersStayAsWritten() {
        let text = "type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=59 success=no pid=7 comm=6D7920746F6F6C exe=\"/opt/my tool\" key=(null)"
        let found = attributes(builder.logRecord(for: QueuedEvent(observedUnixNanoseconds: 0, text: text)))
        #expect(found["audit.comm"] == "my tool")
        #expect(found["audit.syscall"] == "59")
        #expect(found["audit.success"] == "no")
        #expect(found["audit.key"] == nil)
    }

    @Test func theRequestCarriesTheHostAsResource() throws {
        let request = builder.request(for: [QueuedEvent(observedUnixNanoseconds: 0, text: "type=USER msg=audit(1.000:1): pid=1")])
        let resource = try #require(request.resourceLogs.first?.resource)
        #expect(resource.attributes.map(\.key) == ["host.name", "service.name", "service.version"])
        #expect(resource.attributes[0].value.stringValue == "web-1")
        #expect(request.resourceLogs[0].scopeLogs[0].logRecords.count == 1)
    }
}
