/// The `audit(SECONDS.MILLIS:SERIAL)` stamp at the front of every record's payload.
///
/// The kernel writes it in `audit_log_start()` (kernel/audit.c); auditd copies it verbatim. All
/// records of one event share a stamp.
public struct AuditStamp: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var seconds: UInt64
    public var milliseconds: UInt16
    public var serial: UInt32

    public init(seconds: UInt64, milliseconds: UInt16, serial: UInt32) {
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
    }

    /// Milliseconds since the epoch.
    public var time: UInt64 { seconds &* 1000 &+ UInt64(milliseconds) }

    public var description: String {
        let ms = String(milliseconds)
        return "audit(\(seconds).\(String(repeating: "0", count: 3 - ms.count))\(ms):\(serial))"
    }

    public static func < (a: Self, b: Self) -> Bool { (a.time, a.serial) < (b.time, b.serial) }

    /// Parses the stamp at the start of `payload`, or returns nil when there is none. Never traps.
    public init?(parsing payload: UnsafeRawBufferPointer) {
        var index = 0
        func expect(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard payload.count - index >= count else { return false }
            for i in 0..<count where payload[index + i] != literal.utf8Start[i] { return false }
            index += count
            return true
        }
        func number(maxDigits: Int) -> UInt64? {
            var value: UInt64 = 0
            var digits = 0
            while index < payload.count, digits < maxDigits {
                let byte = payload[index]
                guard byte >= 0x30, byte <= 0x39 else { break }
                value = value * 10 + UInt64(byte - 0x30)
                digits += 1
                index += 1
            }
            return digits == 0 ? nil : value
        }
        guard expect("audit("), let seconds = number(maxDigits: 19), expect("."),
              let millis = number(maxDigits: 3), millis < 1000, expect(":"),
              let serial = number(maxDigits: 10), serial <= UInt32.max, expect(")")
        else { return nil }
        self.init(seconds: seconds, milliseconds: UInt16(millis), serial: UInt32(serial))
    }
}
