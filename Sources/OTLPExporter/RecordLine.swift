/// One line of auditd's string format, as auditd 3.0.9 writes it to its plugins:
/// `[node=N ]type=NAME msg=audit(SEC.MSEC:SERIAL): BODY[0x1D INTERPRETED]` (ENRICHED lines carry
/// the interpreted fields after 0x1D). Only what grouping and the attributes need is taken apart.
public struct RecordLine: Sendable, Equatable {
    public let text: String
    public let node: String?
    public let typeName: String
    public let stamp: EventStamp
    /// Where the body starts (after `): `) in `text.utf8`.
    let bodyStart: String.Index

    /// Nil for a line that is not a record (the caller counts and reports it).
    public init?(_ text: String) {
        self.text = text
        var rest = Substring(text)
        if rest.hasPrefix("node=") {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            node = String(rest[rest.index(rest.startIndex, offsetBy: 5)..<space])
            rest = rest[rest.index(after: space)...]
        } else {
            node = nil
        }
        guard rest.hasPrefix("type="), let space = rest.firstIndex(of: " ") else { return nil }
        typeName = String(rest[rest.index(rest.startIndex, offsetBy: 5)..<space])
        rest = rest[rest.index(after: space)...]
        guard rest.hasPrefix("msg=audit("), let close = rest.firstIndex(of: ")") else { return nil }
        guard let stamp = EventStamp(rest[rest.index(rest.startIndex, offsetBy: 10)..<close]) else { return nil }
        self.stamp = stamp
        var body = rest.index(after: close)
        if rest[body...].hasPrefix(":") { body = rest.index(after: body) }
        if rest[body...].hasPrefix(" ") { body = rest.index(after: body) }
        bodyStart = body
    }

    /// The kernel's or the sender's fields, without ENRICHED's interpreted part.
    public var body: Substring {
        let rest = text[bodyStart...]
        if let separator = rest.firstIndex(of: "\u{1D}") { return rest[..<separator] }
        return rest
    }
}

/// `audit(SEC.MSEC:SERIAL)`: the time and serial the kernel gave every record of one event.
public struct EventStamp: Hashable, Sendable, CustomStringConvertible {
    public let seconds: UInt64
    public let milliseconds: UInt32
    public let serial: UInt64

    init?(_ text: Substring) {
        guard let dot = text.firstIndex(of: "."), let colon = text.firstIndex(of: ":"), dot < colon,
              let seconds = UInt64(text[..<dot]), let milliseconds = UInt32(text[text.index(after: dot)..<colon]),
              let serial = UInt64(text[text.index(after: colon)...]) else { return nil }
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
    }

    public var unixNanoseconds: UInt64 { seconds &* 1_000_000_000 &+ UInt64(milliseconds) &* 1_000_000 }

    /// As auditd writes it: `1795706559.695:2840`, milliseconds always three digits.
    public var description: String {
        let ms = String(milliseconds)
        return "\(seconds).\(String(repeating: "0", count: max(0, 3 - ms.count)))\(ms):\(serial)"
    }
}
