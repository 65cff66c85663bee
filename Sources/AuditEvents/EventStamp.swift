/// The `audit(sec.milli:serial)` stamp every record of one event shares, as numbers.
///
/// Ordered as ausearch orders events (`src/ausearch-lol.c: compare_event_time`): seconds, then
/// milliseconds, then serial.
public struct EventStamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    public var milliseconds: UInt16
    public var serial: UInt64

    public init(seconds: Int64, milliseconds: UInt16, serial: UInt64) {
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
    }

    public static func < (a: EventStamp, b: EventStamp) -> Bool {
        if a.seconds != b.seconds { return a.seconds < b.seconds }
        if a.milliseconds != b.milliseconds { return a.milliseconds < b.milliseconds }
        return a.serial < b.serial
    }

    public var description: String {
        let milli = String(milliseconds)
        return "\(seconds).\(String(repeating: "0", count: 3 - milli.count))\(milli):\(serial)"
    }
}

/// What identifies one event among the records of a stream: its stamp and the `node=` name, if any
/// (ausearch's `events_are_equal`).
struct EventKey: Hashable {
    var stamp: EventStamp
    var node: [UInt8]
}
