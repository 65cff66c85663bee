/// What the receive path has seen, by kind. Every datagram lands in exactly one of `records`,
/// `notLogged`, `replies`, `refusedSenders` and `malformed`, so nothing is dropped without a
/// number to show for it; `lengthMismatches` and `truncated` count records again, and `overruns`
/// counts the socket's reports, not datagrams.
public struct ReceiveCounters: Hashable, Sendable {
    /// Datagrams read from the socket.
    public var datagrams: UInt64 = 0
    /// Records handed on to be written.
    public var records: UInt64 = 0
    /// Messages auditd never logs (`EOE`, `AUDIT_REPLACE`, daemon types).
    public var notLogged: UInt64 = 0
    /// Replies to requests.
    public var replies: UInt64 = 0
    /// Datagrams from a sender other than the kernel: refused, never written.
    public var refusedSenders: UInt64 = 0
    /// Datagrams that are not a netlink message: refused, never written.
    public var malformed: UInt64 = 0
    /// Records written whose `nlmsg_len` matched neither framing (counted in `records` too).
    public var lengthMismatches: UInt64 = 0
    /// Records longer than a receive slot, written as far as they fit (counted in `records` too).
    public var truncated: UInt64 = 0
    /// `ENOBUFS` reports: the socket's receive queue overflowed.
    public var overruns: UInt64 = 0

    public init() {}
}

/// Logs the first few occurrences of a kind of problem, then only every power of two, so a flood
/// of bad datagrams cannot flood the journal but is never silent.
struct WarningLimiter {
    static func shouldReport(occurrence count: UInt64) -> Bool {
        count <= 5 || count & (count - 1) == 0
    }
}

/// The first bytes of a datagram in hex, for a diagnostic that shows what was refused.
func hexPrefix(_ bytes: UnsafeRawBufferPointer, limit: Int = 64) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes.prefix(limit) {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: text, as: UTF8.self) + (bytes.count > limit ? "…" : "")
}
