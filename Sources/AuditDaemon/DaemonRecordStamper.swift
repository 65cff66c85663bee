#if canImport(Glibc)
import Glibc
#endif

/// Stamps the daemon's own records as auditd does (`send_audit_event`, src/auditd.c):
/// `audit(SECONDS.MILLISECONDS:SERIAL): TEXT`, the time from the wall clock, cut (not rounded) to
/// milliseconds, the serial random below 10000 for the first record and one more for each next.
///
/// The serial is the daemon's own, unrelated to the kernel's. auditd gives a successful
/// `DAEMON_CONFIG` a fresh random serial of its own; swift-auditd keeps counting, so its daemon
/// records never share a serial.
public struct DaemonRecordStamper: Sendable {
    /// auditd's `DMSG_SIZE`: the stamped text is cut to 495 bytes.
    public static let maximumPayload = 495

    /// The serial of the next record; nil until the first, which draws it.
    private var nextSerial: UInt32?
    private let clock: @Sendable () -> (seconds: Int, milliseconds: Int)

    /// - Parameters:
    ///   - firstSerial: the first serial; random below 10000 unless a test fixes it.
    ///   - clock: wall-clock seconds and milliseconds; `CLOCK_REALTIME` unless a test fixes it.
    public init(firstSerial: UInt32? = nil,
                clock: @escaping @Sendable () -> (seconds: Int, milliseconds: Int) = DaemonRecordStamper.wallClock) {
        nextSerial = firstSerial
        self.clock = clock
    }

    /// The payload for `record`: stamp and text, as the kernel's records look.
    public mutating func payload(for record: DaemonRecord) -> [UInt8] {
        let serial = nextSerial ?? UInt32.random(in: 0..<10000)
        nextSerial = serial &+ 1
        let (seconds, milliseconds) = clock()
        let stamp = "audit(\(seconds).\(threeDigits(milliseconds)):\(serial)): "
        let bytes = Array((stamp + record.text).utf8)
        return bytes.count > Self.maximumPayload ? Array(bytes.prefix(Self.maximumPayload)) : bytes
    }

    private func threeDigits(_ value: Int) -> String {
        value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
    }

    /// `gettimeofday`, as auditd: seconds, and microseconds divided by 1000.
    @Sendable public static func wallClock() -> (seconds: Int, milliseconds: Int) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (time.tv_sec, time.tv_nsec / 1_000_000)
    }
}
