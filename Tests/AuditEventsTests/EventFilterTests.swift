import AuditEvents
import Testing

func event(_ lines: [String]) -> AuditEvent {
    var assembler = EventAssembler()
    var events = assemble(lines, into: &assembler)
    assembler.finish()
    while let next = assembler.nextEvent() { events.append(next) }
    return events[0]
}

@Suite struct EventFilterTests {
    let opened = event([
        "type=SYSCALL msg=audit(1700000000.042:77): arch=c000003e syscall=257 key=\"etc-open\"",
        "type=PATH msg=audit(1700000000.042:77): item=0 name=\"/etc/hostname\"",
    ])

    @Test func aKeyMatchesItsQuotedValue() {
        #expect(EventFilter(keys: [Array("etc-open".utf8)]).matches(opened))
        #expect(!EventFilter(keys: [Array("etc".utf8)]).matches(opened))
    }

    @Test func eachOfSeveralKeysOnOneRuleMatches() {
        // key="a" and key="b" on one rule: hex of "a\u{1}b".
        let both = event(["type=SYSCALL msg=audit(1700000000.042:78): syscall=2 key=610162"])
        #expect(EventFilter(keys: [Array("b".utf8)]).matches(both))
        #expect(EventFilter(keys: [Array("a".utf8)]).matches(both))
        #expect(!EventFilter(keys: [Array("a\u{1}b".utf8)]).matches(both))
    }

    @Test func typesAndSinceNarrowTheEvents() {
        #expect(EventFilter(types: [1302]).matches(opened))
        #expect(!EventFilter(types: [1112]).matches(opened))
        #expect(EventFilter(since: 1_700_000_000).matches(opened))
        #expect(!EventFilter(since: 1_700_000_001).matches(opened))
        #expect(!EventFilter(keys: [Array("etc-open".utf8)], types: [1112]).matches(opened), "all conditions must hold")
    }

    @Test func anEventWithoutAKeyNeverMatchesAKeyFilter() {
        let plain = event(["type=SYSCALL msg=audit(1700000000.042:79): syscall=2 key=(null)"])
        #expect(!EventFilter(keys: [Array("(null)".utf8)]).matches(plain))
    }
}
