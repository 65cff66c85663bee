import CAudit

/// An event as the exporter needs it: its records' lines in the order they arrived, and the stamp
/// they share. This is the seam to the events library (branch `events`): whatever reassembles
/// events hands the exporter these, so the exporter does not care who grouped the lines.
public struct AuditEventLines: Sendable, Equatable {
    public let stamp: EventStamp
    public var records: [RecordLine]

    public init(stamp: EventStamp, records: [RecordLine]) {
        self.stamp = stamp
        self.records = records
    }
}

/// What the exporter asks of an event reassembler: lines in, finished events out.
public protocol EventAssembling {
    /// Takes one record line; returns the events it finished (possibly none).
    mutating func add(_ record: RecordLine, at now: ContinuousClock.Instant) -> [AuditEventLines]
    /// Returns the events whose records stopped coming long enough ago.
    mutating func closeStale(at now: ContinuousClock.Instant) -> [AuditEventLines]
    /// Returns every event still open (end of input).
    mutating func closeAll() -> [AuditEventLines]
}
