import AuditLog
import AuditProtocol

/// What the record loop counts for the metrics beyond what the client and the writer count:
/// records received by message type and the write latency.
///
/// Counted in arrays made once, so the record path only increments (no allocation, no lock, no
/// `String`); names are given only when the state report is made. swift-metrics' counters were
/// not used: each increment goes through an existential handler and a lock or an atomic, and the
/// daemon's one reader of the counts (the state report, on the loop's own thread) needs neither.
struct RecordMetrics {
    /// One slot per message type below 3000 (every type the kernel and auditd use); the last
    /// counts the rest.
    private var byType = [UInt64](repeating: 0, count: Self.otherSlot + 1)
    private(set) var writeLatency = WriteLatencyHistogram()
    static let otherSlot = 3000

    /// One record of `type` received (a type the log takes).
    @inline(__always)
    mutating func received(_ type: AuditMessageType) {
        byType[min(Int(type.rawValue), Self.otherSlot)] &+= 1
    }

    /// A batch whose first record was received `nanoseconds` ago is on disk.
    mutating func wrote(afterNanoseconds nanoseconds: Int64) {
        writeLatency.observe(nanoseconds: nanoseconds)
    }

    /// The non-zero counts by libaudit's type name (`other` for types from 3000 up); off the record path.
    func receivedByTypeName() -> [String: UInt64] {
        var names: [String: UInt64] = [:]
        for (slot, count) in byType.enumerated() where count > 0 {
            let name = slot == Self.otherSlot ? "other" : MessageTypeNames.name(of: AuditMessageType(UInt16(slot)))
            names[name, default: 0] += count
        }
        return names
    }
}

/// The time from a batch's first record received to its write completing, in fixed buckets, as a
/// Prometheus histogram counts it (the counts here are per bucket; the renderer accumulates them).
public struct WriteLatencyHistogram: Sendable, Equatable {
    /// Upper bounds in nanoseconds: 100 µs to 10 s. The default batch window is 20 ms, so a
    /// healthy daemon's writes fall in the first buckets, and a slow disk shows in the last.
    public static let boundsNanoseconds: [Int64] = [
        100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
        50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 10_000_000_000,
    ]
    /// Writes per bucket; the last slot counts those above every bound (`+Inf`).
    public var counts = [UInt64](repeating: 0, count: Self.boundsNanoseconds.count + 1)
    public var sumNanoseconds: UInt64 = 0

    public init() {}

    public var count: UInt64 { counts.reduce(0, +) }

    mutating func observe(nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        var slot = 0
        while slot < Self.boundsNanoseconds.count, value > Self.boundsNanoseconds[slot] { slot += 1 }
        counts[slot] &+= 1
        sumNanoseconds &+= UInt64(value)
    }
}
