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
    private var storage = EventStorage()
    private var types = MessageTypeLookup()
    /// Open events by stamp and node: their slot.
    private var open: [EventKey: Int] = [:]
    private var slots: [OpenEvent?] = []
    private var freeSlots: [Int] = []
    /// Open events in the order they opened (entries of events already ended are skipped).
    private var opened = FIFO<(slot: Int, sequence: UInt64)>()
    private var ended = FIFO<AuditEvent>()
    private var nextSequence: UInt64 = 0
    /// The slot of the last line's event: most lines belong to the event of the line before, and
    /// then no hashing is needed.
    private var lastSlot = -1
    private var lastStamp = EventStamp(seconds: -1, milliseconds: 0, serial: 0)

    @inline(__always)
    private mutating func remember(_ slot: Int, _ header: RecordHeader) {
        // Only events without a node name take the shortcut (comparing names costs a lookup anyway).
        lastSlot = header.node == nil ? slot : -1
        lastStamp = header.stamp
    }

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
        let slot = slotOf(header, line)
        if slot >= 0 {
            slots[slot]!.append(header: header, line: line, now: now)
            if EventEndRule.isLastRecord(header.type) {
                end(slot, as: .lastRecord)
            } else if slots[slot]!.event.records.count >= limits.recordsPerEvent || slots[slot]!.event.bytes.count >= limits.bytesPerEvent {
                counters.oversizedEvents += 1
                end(slot, as: .oversized)
            }
            return nil
        }
        // An EOE whose event has already ended (by its PROCTITLE) adds nothing.
        if header.type == EventEndRule.endOfEvent { return nil }
        endEventsOlderThan(seconds: header.stamp.seconds)
        let event = OpenEvent(header: header, line: line, sequence: nextSequence, now: now, storage: &storage)
        nextSequence += 1
        if EventEndRule.isLastRecord(header.type) {
            ended.append(event.event)
            return nil
        }
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
            slots[index] = event
        } else {
            index = slots.count
            slots.append(event)
        }
        open[EventKey(stamp: header.stamp, node: event.event.node ?? [])] = index
        opened.append((index, event.sequence))
        remember(index, header)
        while open.count > limits.openEvents, let oldest = oldestOpen() {
            counters.evictedEvents += 1
            end(oldest, as: .evicted)
        }
        return nil
    }

    /// The open event this record belongs to, or -1.
    @inline(__always)
    private mutating func slotOf(_ header: RecordHeader, _ line: UnsafeBufferPointer<UInt8>) -> Int {
        if lastSlot >= 0 && header.node == nil && lastStamp == header.stamp { return lastSlot }
        if open.isEmpty { return -1 }
        let key = EventKey(stamp: header.stamp, node: header.node.map { Array(line[$0]) } ?? [])
        guard let slot = open[key] else { return -1 }
        remember(slot, header)
        return slot
    }

    /// Ends the events no record came for in the last `end_of_event_timeout` seconds.
    public mutating func endIdleEvents(now: Int64) {
        let limit = now - timeoutSeconds * 1000
        let idle = open.values.filter { slots[$0]!.lastActivity <= limit }.sorted { slots[$0]!.sequence < slots[$1]!.sequence }
        for slot in idle {
            counters.timedOutEvents += 1
            end(slot, as: .timeout)
        }
    }

    /// Ends every open event, oldest first: the input is over.
    public mutating func finish() {
        while let oldest = oldestOpen() { end(oldest, as: .endOfInput) }
    }

    /// The next event that has ended, in the order they ended.
    /// Takes back events already printed (leaving `events` empty), to reuse their buffers.
    public mutating func recycle(_ events: inout [AuditEvent]) { storage.recycle(&events) }

    public mutating func nextEvent() -> AuditEvent? { ended.removeFirst() }

    private mutating func end(_ slot: Int, as reason: EventEnd) {
        guard var event = slots[slot]?.event else { return }
        slots[slot] = nil
        freeSlots.append(slot)
        if lastSlot == slot { lastSlot = -1 }
        open.removeValue(forKey: EventKey(stamp: event.stamp, node: event.node ?? []))
        event.end = reason
        ended.append(event)
    }

    /// ausearch's rule for a file: a record stamped `timeout` seconds after an open event ends it.
    private mutating func endEventsOlderThan(seconds: Int64) {
        while let first = opened.first {
            guard let event = slots[first.slot], event.sequence == first.sequence else {
                _ = opened.removeFirst()
                continue
            }
            guard event.event.stamp.seconds + timeoutSeconds <= seconds else { break }
            _ = opened.removeFirst()
            counters.timedOutEvents += 1
            end(first.slot, as: .timeout)
        }
    }

    private mutating func oldestOpen() -> Int? {
        while let first = opened.removeFirst() {
            if let event = slots[first.slot], event.sequence == first.sequence { return first.slot }
        }
        return nil
    }
}
