import AuditEvents
import Testing

func order(_ lines: [String], timeout: Int = 2, finish: Bool = true) -> [AuditEvent] {
    var order = AusearchEventOrder(timeoutSeconds: timeout)
    var events: [AuditEvent] = []
    for line in lines {
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBufferPointer { order.add(line: UnsafeBufferPointer($0)) }
        while let event = order.nextEvent() { events.append(event) }
    }
    if finish { order.finish() }
    while let event = order.nextEvent() { events.append(event) }
    return events
}

@Suite struct AusearchEventOrderTests {
    @Test func aSystemCallsEventWaitsForAnotherEventOrTheEndOfInput() {
        let lines = [
            "type=SYSCALL msg=audit(1700000000.100:10): a",
            "type=PROCTITLE msg=audit(1700000000.100:10): b",
        ]
        #expect(order(lines, finish: false).isEmpty)
        #expect(order(lines).map(\.records.count) == [2])
    }

    @Test func eventsComeOutByStampNotByTheOrderTheyEnded() {
        let events = order([
            "type=SYSCALL msg=audit(1700000000.200:11): a",
            "type=PROCTITLE msg=audit(1700000000.200:11): a",
            "type=USER_LOGIN msg=audit(1700000000.100:12): earlier time, later serial",
            "type=DAEMON_START msg=audit(1700000000.300:13): later",
        ])
        #expect(events.map(\.stamp.serial) == [12, 11, 13])
    }

    @Test func aCompleteEventWaitsBehindALowerStampStillOpen() {
        let events = order([
            "type=SYSCALL msg=audit(1700000000.100:10): open",
            "type=USER_LOGIN msg=audit(1700000000.200:11): complete at once",
        ], finish: false)
        #expect(events.isEmpty)
    }

    @Test func aRecordTheTimeoutLaterCompletesOlderEvents() {
        let events = order([
            "type=SYSCALL msg=audit(1700000000.100:10): open",
            "type=SYSCALL msg=audit(1700000002.100:11): two seconds later",
        ], finish: false)
        #expect(events.map(\.stamp.serial) == [10])
    }

    @Test func aRecordForACompleteEventOpensAnotherWithTheSameStamp() {
        let events = order([
            "type=USER_LOGIN msg=audit(1700000000.100:10): one record",
            "type=USER_LOGIN msg=audit(1700000000.100:10): same stamp again",
        ])
        #expect(events.map(\.records.count) == [1, 1])
    }
}
