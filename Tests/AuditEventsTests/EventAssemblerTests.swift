import AuditEvents
import AuditdGoldenLogs
import Testing

/// Feeds `lines` to an assembler, one millisecond apart from `start`, and returns what it handed out.
func assemble(_ lines: [String], into assembler: inout EventAssembler, start: Int64 = 0) -> [AuditEvent] {
    var events: [AuditEvent] = []
    for (offset, line) in lines.enumerated() {
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBufferPointer { assembler.add(line: UnsafeBufferPointer($0), now: start + Int64(offset)) }
        while let event = assembler.nextEvent() { events.append(event) }
    }
    return events
}

func text(_ event: AuditEvent) -> String { String(decoding: event.bytes, as: UTF8.self) }

func types(_ event: AuditEvent) -> [String] {
    event.records.map { String(decoding: event.bytes[$0.typeName], as: UTF8.self) }
}

@Suite struct EventAssemblerTests {
    let syscall = "type=SYSCALL msg=audit(1700000000.100:10): arch=c000003e syscall=59 success=yes"
    let cwd = "type=CWD msg=audit(1700000000.100:10): cwd=\"/root\""
    let proctitle = "type=PROCTITLE msg=audit(1700000000.100:10): proctitle=6C73"

    @Test func aSystemCallsEventEndsAtItsProctitle() {
        var assembler = EventAssembler()
        let events = assemble([syscall, cwd], into: &assembler)
        #expect(events.isEmpty)
        #expect(assembler.openCount == 1)
        let ended = assemble([proctitle], into: &assembler)
        #expect(ended.count == 1)
        #expect(types(ended[0]) == ["SYSCALL", "CWD", "PROCTITLE"])
        #expect(ended[0].stamp == EventStamp(seconds: 1_700_000_000, milliseconds: 100, serial: 10))
        #expect(ended[0].end == .lastRecord)
        #expect(text(ended[0]) == [syscall, cwd, proctitle].map { $0 + "\n" }.joined())
    }

    @Test func interleavedEventsComeOutInTheOrderTheyEnd() {
        var assembler = EventAssembler()
        let events = assemble([
            "type=SYSCALL msg=audit(1700000000.100:10): a",
            "type=SYSCALL msg=audit(1700000000.100:11): b",
            "type=PROCTITLE msg=audit(1700000000.100:11): c",
            "type=USER_LOGIN msg=audit(1700000000.100:12): d",
            "type=PROCTITLE msg=audit(1700000000.100:10): e",
        ], into: &assembler)
        #expect(events.map(\.stamp.serial) == [11, 12, 10])
        #expect(events.map(\.records.count) == [2, 1, 2])
    }

    @Test func anEndOfEventRecordEndsItsEventAndALateOneIsDropped() {
        var assembler = EventAssembler()
        let events = assemble([
            "type=CONFIG_CHANGE msg=audit(1700000000.100:10): op=x",
            "type=EOE msg=audit(1700000000.100:10): ",
            "type=EOE msg=audit(1700000000.100:10): ",
        ], into: &assembler)
        #expect(events.count == 1)
        #expect(types(events[0]) == ["CONFIG_CHANGE", "EOE"])
        #expect(assembler.openCount == 0)
    }

    @Test func nodeNamesSeparateEventsWithTheSameStamp() {
        var assembler = EventAssembler()
        let events = assemble([
            "node=a type=SYSCALL msg=audit(1700000000.100:10): x",
            "node=b type=SYSCALL msg=audit(1700000000.100:10): y",
            "node=b type=PROCTITLE msg=audit(1700000000.100:10): y",
            "node=a type=PROCTITLE msg=audit(1700000000.100:10): x",
        ], into: &assembler)
        #expect(events.map { String(decoding: $0.node ?? [], as: UTF8.self) } == ["b", "a"])
        #expect(events.allSatisfy { $0.records.count == 2 })
    }

    @Test func aRecordStampedTheTimeoutLaterEndsAnOpenEvent() {
        var assembler = EventAssembler(timeoutSeconds: 2)
        let events = assemble([
            "type=SYSCALL msg=audit(1700000000.100:10): never ends",
            "type=SYSCALL msg=audit(1700000001.100:11): still young",
            "type=SYSCALL msg=audit(1700000002.000:12): two seconds after the first",
        ], into: &assembler)
        #expect(events.map(\.stamp.serial) == [10])
        #expect(events[0].end == .timeout)
        #expect(assembler.counters.timedOutEvents == 1)
    }

    @Test func anEventNoRecordCameForIsEndedAfterTheTimeout() {
        var assembler = EventAssembler(timeoutSeconds: 2)
        _ = assemble(["type=SYSCALL msg=audit(1700000000.100:10): x"], into: &assembler, start: 5_000)
        assembler.endIdleEvents(now: 6_999)
        #expect(assembler.nextEvent() == nil)
        assembler.endIdleEvents(now: 7_000)
        let event = assembler.nextEvent()
        #expect(event?.stamp.serial == 10)
        #expect(event?.end == .timeout)
    }

    @Test func aFloodOfOpenEventsIsCappedAndCounted() {
        var assembler = EventAssembler(limits: AssemblyLimits(openEvents: 3))
        let events = assemble((1...10).map { "type=SYSCALL msg=audit(1700000000.100:\($0)): x" }, into: &assembler)
        #expect(events.map(\.stamp.serial) == Array(1...7))
        #expect(events.allSatisfy { $0.end == .evicted })
        #expect(assembler.openCount == 3)
        #expect(assembler.counters.evictedEvents == 7)
        assembler.finish()
        var rest: [UInt64] = []
        while let event = assembler.nextEvent() { rest.append(event.stamp.serial) }
        #expect(rest == [8, 9, 10])
    }

    @Test func anEventThatNeverEndsIsCutAtItsSizeLimit() {
        var assembler = EventAssembler(limits: AssemblyLimits(recordsPerEvent: 4))
        let events = assemble(Array(repeating: "type=PATH msg=audit(1700000000.100:10): item=0", count: 9), into: &assembler)
        #expect(events.map(\.records.count) == [4, 4])
        #expect(events.allSatisfy { $0.end == .oversized })
        #expect(assembler.counters.oversizedEvents == 2)
    }

    @Test func aLineThatIsNotARecordIsCountedAndLeftOut() {
        var assembler = EventAssembler()
        var reasons: [RecordHeader.Malformed?] = []
        for line in ["garbage", "type=SYSCALL msg=nothing", "type=SYSCALL msg=audit(12.x:3): a", "type=PATH msg=audit(1.002:3): ok"] {
            var bytes = Array(line.utf8)
            reasons.append(bytes.withUnsafeMutableBufferPointer { assembler.add(line: UnsafeBufferPointer($0)) })
        }
        #expect(reasons == [.noType, .noStamp, .badStamp, nil])
        #expect(assembler.counters.malformedLines == 3)
    }

    @Test func everyGoldenLineLandsInExactlyOneEvent() throws {
        let log = try AuditdGoldenLog.bytes("audit-enriched.log")
        var buffer = LineBuffer()
        log.withUnsafeBytes { buffer.append($0) }
        var assembler = EventAssembler()
        var events: [AuditEvent] = []
        var lines = 0
        while buffer.nextLine({ (line: UnsafeBufferPointer<UInt8>) -> Void in assembler.add(line: line); lines += 1 }) != nil {
            while let event = assembler.nextEvent() { events.append(event) }
        }
        assembler.finish()
        while let event = assembler.nextEvent() { events.append(event) }
        #expect(assembler.counters.malformedLines == 0)
        #expect(events.reduce(0) { $0 + $1.records.count } == lines)
        #expect(events.reduce(0) { $0 + $1.bytes.count } == log.count)
        let stamps = Set(events.map { "\($0.stamp)" })
        #expect(stamps.count == events.count, "one event per stamp")
        #expect(events.filter { $0.contains(type: 1300) }.allSatisfy { $0.records.last.map { $0.type == 1327 } ?? false })
    }
}
