/// Groups log lines into events as auditd 4.x's readers do, and hands each event out when it ends.
///
/// An event ends when its last record comes (`EventEndRule.isLastRecord`), when a record stamped
/// `end_of_event_timeout` seconds later than it opens another event, when no record came for it for
/// that long (`endIdleEvents(now:)`, for a live log), or when the input ends. Events come out in the
/// order they end. Memory is bounded by `AssemblyLimits`: past them the oldest open event, or the
/// one that grew too large, is ended early and counted.
///
/// Time is whatever the caller says it is (`now`, in milliseconds of a monotonic clock), so tests
/// need no clock.
public struct EventAssembler {
    public let timeoutSeconds: Int64
    public let limits: AssemblyLimits
    public private(set) var counters = AssemblyCounters()
    private var types = MessageTypeLookup()
    private var open: [EventKey: OpenEvent] = [:]
    /// Open events in the order they opened (entries of events already ended are skipped).
    private var opened = FIFO<(key: EventKey, sequence: UInt64)>()
    private var ended = FIFO<AuditEvent>()
    private var nextSequence: UInt64 = 0

    public init(timeoutSeconds: Int = 2, limits: AssemblyLimits = AssemblyLimits()) {
        self.timeoutSeconds = Int64(max(0, timeoutSeconds))
        self.limits = limits
    }

    /// Events still gathering records.
    public var openCount: Int { open.count }

    /// Adds one line (without its newline). Returns why it is not a record, if it is not; such a
    /// line is counted and left out of every event.
    @discardableResult
    public mutating func add(line: UnsafeBufferPointer<UInt8>, now: Int64 = 0) -> RecordHeader.Malformed? {
        let header: RecordHeader
        switch RecordHeader.parse(line, types: &types) {
        case .success(let parsed): header = parsed
        case .failure(let why):
            counters.malformedLines += 1
            return why
        }
        let key = EventKey(stamp: header.stamp, node: header.node.map { Array(UnsafeBufferPointer(rebasing: line[$0])) } ?? [])
        if open[key] != nil {
            var grown = false
            open[key]!.append(header: header, line: line, now: now)
            let event = open[key]!.event
            grown = event.records.count >= limits.recordsPerEvent || event.bytes.count >= limits.bytesPerEvent
            if EventEndRule.isLastRecord(header.type) {
                end(key, as: .lastRecord)
            } else if grown {
                counters.oversizedEvents += 1
                end(key, as: .oversized)
            }
            return nil
        }
        // An EOE whose event has already ended (by its PROCTITLE) adds nothing.
        if header.type == EventEndRule.endOfEvent { return nil }
        endEventsOlderThan(seconds: header.stamp.seconds)
        var event = OpenEvent(header: header, line: line, sequence: nextSequence, now: now)
        nextSequence += 1
        if EventEndRule.isLastRecord(header.type) {
            event.event.end = .lastRecord
            ended.append(event.event)
            return nil
        }
        open[key] = event
        opened.append((key, event.sequence))
        while open.count > limits.openEvents, let oldest = oldestOpen() {
            counters.evictedEvents += 1
            end(oldest, as: .evicted)
        }
        return nil
    }

    /// Ends the events no record came for in the last `end_of_event_timeout` seconds.
    public mutating func endIdleEvents(now: Int64) {
        let limit = now - timeoutSeconds * 1000
        let idle = open.filter { $0.value.lastActivity <= limit }.sorted { $0.value.sequence < $1.value.sequence }
        for (key, _) in idle {
            counters.timedOutEvents += 1
            end(key, as: .timeout)
        }
    }

    /// Ends every open event, oldest first: the input is over.
    public mutating func finish() {
        while let oldest = oldestOpen() { end(oldest, as: .endOfInput) }
    }

    /// The next event that has ended, in the order they ended.
    public mutating func nextEvent() -> AuditEvent? { ended.removeFirst() }

    private mutating func end(_ key: EventKey, as reason: EventEnd) {
        guard var event = open.removeValue(forKey: key)?.event else { return }
        event.end = reason
        ended.append(event)
    }

    /// ausearch's rule for a file: a record stamped `timeout` seconds after an open event ends it.
    private mutating func endEventsOlderThan(seconds: Int64) {
        while let first = opened.first {
            guard let event = open[first.key], event.sequence == first.sequence else {
                _ = opened.removeFirst()
                continue
            }
            guard event.event.stamp.seconds + timeoutSeconds <= seconds else { break }
            _ = opened.removeFirst()
            counters.timedOutEvents += 1
            end(first.key, as: .timeout)
        }
    }

    private mutating func oldestOpen() -> EventKey? {
        while let first = opened.removeFirst() {
            if let event = open[first.key], event.sequence == first.sequence { return first.key }
        }
        return nil
    }
}
