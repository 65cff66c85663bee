/// Emptied buffers of events already printed, for new events to fill: an event's lines and record
/// list are two allocations of a few KiB (past glibc's per-thread cache, so each one takes the
/// arena's lock), and a reader that hands its printed events back saves both, and both frees.
///
/// Bounded: at most `limit` pairs are kept (a reader hands back a batch at a time, and takes as
/// many for the next), and a buffer an unusually large event grew past `largestKept` bytes is
/// freed rather than kept: at most 32 MiB, a few MiB for the events auditd writes.
struct EventStorage {
    private var bytes: [[UInt8]] = []
    private var records: [[AuditEvent.Record]] = []
    let limit = 1024
    let largestKept = 32 << 10

    /// Empty buffers for a new event whose first line is `lineLength` bytes long.
    mutating func take(lineLength: Int) -> (bytes: [UInt8], records: [AuditEvent.Record]) {
        if var spareBytes = bytes.popLast(), let spareRecords = records.popLast() {
            spareBytes.reserveCapacity(lineLength * 6)
            return (spareBytes, spareRecords)
        }
        var newBytes: [UInt8] = []
        newBytes.reserveCapacity(lineLength * 6)
        var newRecords: [AuditEvent.Record] = []
        newRecords.reserveCapacity(6)
        return (newBytes, newRecords)
    }

    /// Keeps the buffers of `events` (which it leaves empty) for `take`.
    mutating func recycle(_ events: inout [AuditEvent]) {
        while var event = events.popLast() {
            guard bytes.count < limit, event.bytes.capacity <= largestKept else { continue }
            var spareBytes: [UInt8] = []
            var spareRecords: [AuditEvent.Record] = []
            swap(&spareBytes, &event.bytes)
            swap(&spareRecords, &event.records)
            // Emptied in place when no one else holds them (the printer has let go by now).
            spareBytes.removeAll(keepingCapacity: true)
            spareRecords.removeAll(keepingCapacity: true)
            bytes.append(spareBytes)
            records.append(spareRecords)
        }
    }
}
