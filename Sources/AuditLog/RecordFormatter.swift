import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Turns a record into one auditd log line, appended to an `OutputBuffer`.
///
/// The line is `[node=NAME ]type=NAME msg=PAYLOAD\n`, where the payload is the kernel's text
/// verbatim (it already starts with `audit(SEC.MS:SERIAL): `). As auditd (`src/auditd-event.c:
/// format_raw`): every newline in the payload becomes a space, and one trailing space is trimmed.
/// auditd prints the payload with `%.*s`, which stops at the first NUL; swift-auditd loses nothing
/// instead: trailing NULs (a C string's terminator) are dropped and any other NUL becomes a space.
public struct RecordFormatter: Sendable {
    /// The most a line adds around its payload: `node=` prefix, type name, newline.
    public static let maximumOverhead = 512
    public let names: MessageTypeNames
    /// `node=NAME ` when `name_format` asks for it, else empty.
    public let nodePrefix: [UInt8]

    public init(names: MessageTypeNames = MessageTypeNames(), nodeName: String? = nil) {
        self.names = names
        nodePrefix = nodeName.map { Array("node=\($0) ".utf8) } ?? []
    }

    /// The bytes a line for a payload of `payloadLength` bytes can need, at most.
    @inlinable
    public func maximumLineLength(payloadLength: Int) -> Int { Self.maximumLineLength(payloadLength: payloadLength) }

    /// The same for any formatter: the overhead does not depend on the node name.
    @inlinable
    public static func maximumLineLength(payloadLength: Int) -> Int { payloadLength + maximumOverhead }

    /// Appends the RAW line for one record. The caller has made room for
    /// `maximumLineLength(payloadLength:)` bytes.
    public func appendRaw(type: AuditMessageType, payload: UnsafeRawBufferPointer, to buffer: OutputBuffer) {
        appendRawText(type: type, payload: payload, to: buffer)
        buffer.append(byte: 0x0A)
    }

    /// Appends the RAW line without its newline, for the ENRICHED format to continue.
    public func appendRawText(type: AuditMessageType, payload: UnsafeRawBufferPointer, to buffer: OutputBuffer) {
        if !nodePrefix.isEmpty { buffer.append(nodePrefix) }
        names.withPrefix(for: type) { buffer.append($0) }
        appendPayload(payload, to: buffer)
    }

    /// Appends a payload with auditd's newline handling (see the type's summary).
    func appendPayload(_ payload: UnsafeRawBufferPointer, to buffer: OutputBuffer) {
        var length = payload.count
        while length > 0, payload[length - 1] == 0 { length -= 1 }
        guard length > 0, let source = payload.baseAddress else { return }
        let start = buffer.base + buffer.count
        buffer.append(UnsafeRawBufferPointer(start: source, count: length))
        Self.replace(0x0A, with: 0x20, in: start, count: length)
        Self.replace(0x00, with: 0x20, in: start, count: length)
        if start.load(fromByteOffset: length - 1, as: UInt8.self) == 0x20 { buffer.count -= 1 }
    }

    /// Replaces every `byte` with `replacement`, finding them with `memchr` (vectorised in glibc),
    /// since most payloads hold none.
    static func replace(_ byte: UInt8, with replacement: UInt8, in start: UnsafeMutableRawPointer, count: Int) {
        var cursor = start
        var left = count
        while left > 0, let found = memchr(cursor, Int32(byte), left) {
            found.storeBytes(of: replacement, as: UInt8.self)
            let advanced = found - cursor + 1
            cursor = found + 1
            left -= advanced
        }
    }
}
