/// What the readers of events need of an assembler: lines in, ended events out.
public protocol EventGrouping {
    /// Adds one line (without its newline) read at `now` (milliseconds of a monotonic clock).
    @discardableResult
    mutating func add(line: UnsafeBufferPointer<UInt8>, now: Int64) -> RecordHeader.Malformed?
    /// Ends the events no record came for in the last `end_of_event_timeout` seconds.
    mutating func endIdleEvents(now: Int64)
    /// Ends every event: the input is over.
    mutating func finish()
    /// The next event ready to hand out.
    mutating func nextEvent() -> AuditEvent?
    var counters: AssemblyCounters { get }
    /// Takes back events already printed (leaving `events` empty), to reuse their buffers.
    mutating func recycle(_ events: inout [AuditEvent])
}

extension EventAssembler: EventGrouping {}
extension AusearchEventOrder: EventGrouping {}
