import AuditdGoldenLogs
import Foundation

/// Realistic plugin input from the golden RAW log Debian's auditd 3.0.9 wrote: its lines in order,
/// with the `type=EOE` record auditd sends plugins (but never writes to disk) after the last record
/// of each event that has a SYSCALL record. `copies` repeats the log with serials moved on by a
/// million per copy, for streams longer than one workload.
struct GoldenEventStream {
    /// Lines to send, in order.
    let lines: [String]
    /// Each event's stamp and its lines (without EOE) in the order sent: what the receiver should get.
    let events: [String: [String]]

    init(copies: Int = 1) throws {
        let text = String(decoding: try AuditdGoldenLog.bytes("audit-raw.log"), as: UTF8.self)
        let original = text.split(separator: "\n").map(String.init)
        var lines: [String] = []
        var events: [String: [String]] = [:]
        for copy in 0..<copies {
            let copied = original.map { Self.shiftSerial($0, by: UInt64(copy) * 1_000_000) }
            var lastIndex: [String: Int] = [:]
            var hasSyscall: Set<String> = []
            for (index, line) in copied.enumerated() {
                let stamp = Self.stamp(of: line)
                lastIndex[stamp] = index
                if line.hasPrefix("type=SYSCALL ") { hasSyscall.insert(stamp) }
                events[stamp, default: []].append(line)
            }
            for (index, line) in copied.enumerated() {
                lines.append(line)
                let stamp = Self.stamp(of: line)
                if lastIndex[stamp] == index, hasSyscall.contains(stamp) {
                    lines.append("type=EOE msg=audit(\(stamp)): ")
                }
            }
        }
        self.lines = lines
        self.events = events
    }

    static func stamp(of line: String) -> String {
        let start = line.range(of: "msg=audit(")!.upperBound
        let end = line[start...].firstIndex(of: ")")!
        return String(line[start..<end])
    }

    static func serial(_ stamp: String) -> UInt64 { UInt64(stamp[stamp.index(after: stamp.firstIndex(of: ":")!)...])! }

    static func shiftSerial(_ line: String, by offset: UInt64) -> String {
        guard offset > 0 else { return line }
        let stamp = stamp(of: line)
        let colon = stamp.firstIndex(of: ":")!
        let serial = UInt64(stamp[stamp.index(after: colon)...])! + offset
        return line.replacingOccurrences(of: "audit(\(stamp))", with: "audit(\(stamp[..<colon]):\(serial))")
    }
}
