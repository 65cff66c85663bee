/// One event: the records that share a stamp (and node), in the order they were read.
///
/// The lines are kept together in one buffer, each with its newline, so an event costs two
/// allocations however many records it has, and printing it as lines is one copy.
public struct AuditEvent: Sendable {
    public var stamp: EventStamp
    /// The `node=` name, when the lines have one.
    public var node: [UInt8]?
    /// Every line of the event, each ending with `\n`.
    public var bytes: [UInt8]
    public var records: [Record]
    public var end: EventEnd

    /// One record: where its line and parts are in `bytes`.
    public struct Record: Sendable {
        public var type: Int32
        /// The line without its newline.
        public var line: Range<Int>
        public var typeName: Range<Int>
        public var body: Range<Int>
        public var enrichment: Range<Int>?
    }

    /// The type of the record that opened the event.
    public var firstType: Int32 { records.first?.type ?? -1 }

    /// Whether any record is of `type`.
    public func contains(type: Int32) -> Bool { records.contains { $0.type == type } }
}

/// Why an event was ended.
public enum EventEnd: Sendable, Equatable {
    /// Its last record came (EOE, PROCTITLE, a one-record type; `EventEndRule`).
    case lastRecord
    /// `end_of_event_timeout` passed: a record stamped that much later arrived, or none came for it
    /// for that long.
    case timeout
    /// The input ended.
    case endOfInput
    /// Too many events were open at once; the oldest was ended to make room.
    case evicted
    /// It grew past the size an event may have (records or bytes); what it has so far is ended.
    case oversized
}

/// What an assembler has seen that was not an ordinary record, so a reader can say so.
public struct AssemblyCounters: Sendable, Equatable {
    /// Lines that are not records (no type or stamp), skipped.
    public var malformedLines = 0
    /// Events ended early because too many were open at once.
    public var evictedEvents = 0
    /// Events ended early because they grew too large.
    public var oversizedEvents = 0
    /// Events ended by the timeout rather than by a last record.
    public var timedOutEvents = 0
    public init() {}
}

/// How much an assembler may hold before it ends events early.
public struct AssemblyLimits: Sendable {
    /// Events open at once (distinct stamps still gathering records).
    public var openEvents: Int
    /// Records in one event.
    public var recordsPerEvent: Int
    /// Bytes in one event.
    public var bytesPerEvent: Int

    public init(openEvents: Int = 8192, recordsPerEvent: Int = 4096, bytesPerEvent: Int = 4 << 20) {
        self.openEvents = openEvents
        self.recordsPerEvent = recordsPerEvent
        self.bytesPerEvent = bytesPerEvent
    }
}

/// An event still gathering records.
struct OpenEvent {
    var event: AuditEvent
    var sequence: UInt64
    var lastActivity: Int64

    init(header: RecordHeader, line: UnsafeBufferPointer<UInt8>, sequence: UInt64, now: Int64, storage: inout EventStorage) {
        let node = header.node.map { Array(UnsafeBufferPointer(rebasing: line[$0])) }
        let buffers = storage.take(lineLength: line.count)
        event = AuditEvent(stamp: header.stamp, node: node, bytes: buffers.bytes, records: buffers.records, end: .lastRecord)
        self.sequence = sequence
        lastActivity = now
        append(header: header, line: line, now: now)
    }

    /// Adds the record; returns the event's size after it.
    @discardableResult
    mutating func append(header: RecordHeader, line: UnsafeBufferPointer<UInt8>, now: Int64) -> (records: Int, bytes: Int) {
        let base = event.bytes.count
        event.bytes.append(contentsOf: line)
        event.bytes.append(0x0A)
        func shift(_ range: Range<Int>) -> Range<Int> { (range.lowerBound + base)..<(range.upperBound + base) }
        event.records.append(AuditEvent.Record(
            type: header.type, line: base..<(base + line.count), typeName: shift(header.typeName),
            body: shift(header.body), enrichment: header.enrichment.map(shift)))
        lastActivity = now
        return (event.records.count, event.bytes.count)
    }
}
