/// Groups log lines into events exactly as ausearch 3.0.9 does, and hands them out in its order, so
/// that a formatter fed from it prints what `ausearch` prints (`src/ausearch-lol.c` at v3.0.9).
///
/// The differences from `EventAssembler` are ausearch's, kept on purpose:
/// - an event is complete only when *another* event opens and either the first record's type is a
///   one-record type (`EventEndRule.endsAtFirstRecordInAusearch309`) or the new record is stamped
///   `end_of_event_timeout` seconds later; or when the input ends;
/// - events come out by stamp: the lowest-stamped event still held goes first, and only once it is
///   complete, so a complete event waits behind an earlier one still gathering records;
/// - a record whose stamp matches a complete event opens a new event with the same stamp.
///
/// Memory: an event that never completes is held until a record `timeout` seconds later or the end
/// of input, as in ausearch; `limits.openEvents` caps the events held at once (the lowest is then
/// completed early and counted as evicted).
public struct AusearchEventOrder {
    public let timeoutSeconds: Int64
    public let limits: AssemblyLimits
    public private(set) var counters = AssemblyCounters()
    private var storage = EventStorage()
    private var types = MessageTypeLookup()
    /// Events still gathering records, by stamp and node: the index of their slot.
    private var building: [EventKey: Int] = [:]
    /// Held events; `states` says which slots hold one, kept apart so that asking never copies an
    /// event (a copy is three retains and releases, per record).
    private var slots: [Slot?] = []
    private var states: [SlotState] = []
    private var freeSlots: [Int] = []
    /// Every held event (building or complete), lowest stamp first; ties in the order they opened.
    private var byStamp = MinHeap<StampEntry>()
    /// Building events by the second of their stamp, for the timeout.
    private var bySecond = MinHeap<SecondEntry>()
    private var ready = FIFO<AuditEvent>()
    private var nextSequence: UInt64 = 0
    /// The slot of the last line's event (no node name): most lines follow a line of their event.
    private var lastSlot = -1
    private var lastStamp = EventStamp(seconds: -1, milliseconds: 0, serial: 0)
    /// The highest stamp an event was opened with.
    private var highestStamp = EventStamp(seconds: .min, milliseconds: 0, serial: 0)

    @inline(__always)
    private mutating func remember(_ slot: Int, _ header: RecordHeader) {
        lastSlot = header.node == nil ? slot : -1
        lastStamp = header.stamp
    }

    private struct Slot {
        var open: OpenEvent
        var key: EventKey
    }

    private enum SlotState { case free, building, complete }

    private struct StampEntry: Comparable {
        var stamp: EventStamp
        var sequence: UInt64
        var slot: Int
        static func < (a: StampEntry, b: StampEntry) -> Bool {
            a.stamp != b.stamp ? a.stamp < b.stamp : a.sequence < b.sequence
        }
    }

    private struct SecondEntry: Comparable {
        var seconds: Int64
        var sequence: UInt64
        var slot: Int
        static func < (a: SecondEntry, b: SecondEntry) -> Bool {
            a.seconds != b.seconds ? a.seconds < b.seconds : a.sequence < b.sequence
        }
    }

    public init(timeoutSeconds: Int = 2, limits: AssemblyLimits = AssemblyLimits()) {
        self.timeoutSeconds = Int64(max(0, timeoutSeconds))
        self.limits = limits
    }

    /// Events held (building or complete but waiting behind a lower stamp).
    public var heldCount: Int { byStamp.count }

    /// Adds one line (without its newline); returns why it is not a record, if it is not.
    @discardableResult
    public mutating func add(line: UnsafeBufferPointer<UInt8>, now: Int64 = 0) -> RecordHeader.Malformed? {
        let header: RecordHeader
        switch RecordHeader.parse(line, types: &types) {
        case .success(let parsed): header = parsed
        case .failure(let why):
            counters.malformedLines += 1
            return why
        }
        var key: EventKey?
        var found: Int?
        if lastSlot >= 0 && header.node == nil && lastStamp == header.stamp && states[lastSlot] == .building {
            found = lastSlot
        } else {
            let made = EventKey(stamp: header.stamp, node: header.node.map { Array(UnsafeBufferPointer(rebasing: line[$0])) } ?? [])
            key = made
            // A stamp above every one seen opens an event: no need to look (most do, in a log).
            if header.stamp <= highestStamp {
                found = building[made]
                if let found { remember(found, header) }
            }
        }
        if let index = found {
            let size = slots[index]!.open.append(header: header, line: line, now: now)
            if size.records >= limits.recordsPerEvent || size.bytes >= limits.bytesPerEvent {
                counters.oversizedEvents += 1
                complete(index, as: .oversized)
            }
            releaseReady()
            return nil
        }
        // ausearch eats an EOE whose event is already complete.
        if header.type == EventEndRule.endOfEvent { return nil }
        let sequence = nextSequence
        nextSequence += 1
        let slot = Slot(open: OpenEvent(header: header, line: line, sequence: sequence, now: now, storage: &storage), key: key!)
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
            slots[index] = slot
            states[index] = .building
        } else {
            index = slots.count
            slots.append(slot)
            states.append(.building)
        }
        if header.stamp > highestStamp { highestStamp = header.stamp }
        byStamp.insert(StampEntry(stamp: header.stamp, sequence: sequence, slot: index))
        if EventEndRule.endsAtFirstRecordInAusearch309(header.type) {
            // Complete at once: never among the events still building.
            states[index] = .complete
            slots[index]!.open.event.end = .lastRecord
            lastSlot = -1
        } else {
            building[key!] = index
            remember(index, header)
            bySecond.insert(SecondEntry(seconds: header.stamp.seconds, sequence: sequence, slot: index))
        }
        completeEventsOlderThan(seconds: header.stamp.seconds)
        while byStamp.count > limits.openEvents, let lowest = byStamp.min {
            if states[lowest.slot] == .building {
                counters.evictedEvents += 1
                complete(lowest.slot, as: .evicted)
            }
            releaseReady()
        }
        releaseReady()
        return nil
    }

    /// Completes the events no record came for in the last `end_of_event_timeout` seconds (a live
    /// log; ausearch itself only reads files).
    public mutating func endIdleEvents(now: Int64) {
        let limit = now - timeoutSeconds * 1000
        for index in building.values where slots[index]!.open.lastActivity <= limit {
            counters.timedOutEvents += 1
            complete(index, as: .timeout)
        }
        releaseReady()
    }

    /// Completes every event and releases them all, by stamp: the input is over.
    public mutating func finish() {
        for index in Array(building.values) { complete(index, as: .endOfInput) }
        releaseReady()
    }

    /// The next event in ausearch's order.
    /// Takes back events already printed (leaving `events` empty), to reuse their buffers.
    public mutating func recycle(_ events: inout [AuditEvent]) { storage.recycle(&events) }

    public mutating func nextEvent() -> AuditEvent? { ready.removeFirst() }

    private mutating func complete(_ index: Int, as reason: EventEnd) {
        guard states[index] == .building else { return }
        states[index] = .complete
        if lastSlot == index { lastSlot = -1 }
        slots[index]!.open.event.end = reason
        building.removeValue(forKey: slots[index]!.key)
    }

    private mutating func completeEventsOlderThan(seconds: Int64) {
        while let oldest = bySecond.min, oldest.seconds + timeoutSeconds <= seconds {
            _ = bySecond.removeMin()
            if states[oldest.slot] == .building, slots[oldest.slot]!.open.sequence == oldest.sequence {
                counters.timedOutEvents += 1
                complete(oldest.slot, as: .timeout)
            }
        }
    }

    /// ausearch's `get_ready_event`, repeated: the lowest-stamped event goes out once it is complete.
    private mutating func releaseReady() {
        while let lowest = byStamp.min, states[lowest.slot] == .complete {
            _ = byStamp.removeMin()
            var taken: Slot?
            swap(&taken, &slots[lowest.slot])
            states[lowest.slot] = .free
            ready.append(taken.unsafelyUnwrapped.open.event)
            freeSlots.append(lowest.slot)
        }
    }
}
