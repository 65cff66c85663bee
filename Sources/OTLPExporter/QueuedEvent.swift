/// One event as the durable queue keeps it: when the plugin read it, and its lines (newline
/// separated). Encoded as 8 bytes of the time (little-endian nanoseconds) and the UTF-8 text.
public struct QueuedEvent: Sendable, Equatable {
    public let observedUnixNanoseconds: UInt64
    public let text: String

    public init(observedUnixNanoseconds: UInt64, text: String) {
        self.observedUnixNanoseconds = observedUnixNanoseconds
        self.text = text
    }

    public init(_ event: AuditEventLines, observedUnixNanoseconds: UInt64) {
        self.init(observedUnixNanoseconds: observedUnixNanoseconds, text: event.records.map(\.text).joined(separator: "\n"))
    }

    static let headerSize = 8

    var encoded: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.headerSize + text.utf8.count)
        withUnsafeBytes(of: observedUnixNanoseconds.littleEndian) { bytes += $0 }
        bytes += text.utf8
        return bytes
    }

    init?(decoding bytes: ArraySlice<UInt8>) {
        guard bytes.count >= Self.headerSize else { return nil }
        var time: UInt64 = 0
        for (shift, byte) in bytes.prefix(Self.headerSize).enumerated() { time |= UInt64(byte) << (8 * UInt64(shift)) }
        observedUnixNanoseconds = time
        text = String(decoding: bytes.dropFirst(Self.headerSize), as: UTF8.self)
    }
}
