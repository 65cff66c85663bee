import AuditEvents

/// One event as the durable queue keeps it: when the plugin read it, and its lines, each ending
/// with `\n` (`AuditEvent.bytes`). Encoded as 8 bytes of the time (little-endian nanoseconds) and
/// the lines.
public struct QueuedEvent: Sendable, Equatable {
    public let observedUnixNanoseconds: UInt64
    public let lines: [UInt8]

    public init(observedUnixNanoseconds: UInt64, lines: [UInt8]) {
        self.observedUnixNanoseconds = observedUnixNanoseconds
        self.lines = lines
    }

    /// `text`'s lines (newline separated, with or without a last newline).
    public init(observedUnixNanoseconds: UInt64, text: String) {
        self.init(observedUnixNanoseconds: observedUnixNanoseconds, lines: Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    public init(_ event: AuditEvent, observedUnixNanoseconds: UInt64) {
        self.init(observedUnixNanoseconds: observedUnixNanoseconds, lines: event.bytes)
    }

    /// The lines without the last newline: the LogRecord's body, and what `rejected/` shows.
    public var text: String { String(decoding: lines.last == 0x0A ? lines.dropLast() : lines[...], as: UTF8.self) }

    static let headerSize = 8

    var encoded: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.headerSize + lines.count)
        withUnsafeBytes(of: observedUnixNanoseconds.littleEndian) { bytes += $0 }
        bytes += lines
        return bytes
    }

    init?(decoding bytes: ArraySlice<UInt8>) {
        guard bytes.count >= Self.headerSize else { return nil }
        var time: UInt64 = 0
        for (shift, byte) in bytes.prefix(Self.headerSize).enumerated() { time |= UInt64(byte) << (8 * UInt64(shift)) }
        observedUnixNanoseconds = time
        lines = Array(bytes.dropFirst(Self.headerSize))
    }
}
