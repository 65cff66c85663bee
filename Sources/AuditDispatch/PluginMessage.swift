import AuditLog
import AuditProtocol

/// How auditd 3.0.9 frames a record for its plugins (`src/auditd.c: distribute_event`,
/// `src/auditd-dispatch.c`, `audisp/audispd.c: event_loop, write_to_plugin`).
///
/// With `log_format = RAW` and no node name the dispatcher gets the kernel's text as received
/// (`AUDISP_PROTOCOL_VER`) and writes `type=NAME msg=TEXT` itself; otherwise it gets the line as the log has
/// it, ENRICHED and `node=` included (`AUDISP_PROTOCOL_VER2`). String plugins get that line and a newline, every
/// other newline in it made a space. Binary plugins get an `audit_dispatcher_header` (version,
/// header length 16, type, size: four native-endian `UInt32`) and then always
/// `MAX_AUDIT_MESSAGE_LENGTH` (8970) bytes of data, of which `size` count (auditd writes its whole
/// buffer; the rest is zeros here, whatever was in memory there).
public enum DispatchProtocol: UInt32, Sendable {
    /// `AUDISP_PROTOCOL_VER`: the kernel's text, formatted by the dispatcher.
    case kernelText = 0
    /// `AUDISP_PROTOCOL_VER2` (whose value is 1, lib/libaudit.h): the line as formatted for the log.
    case formattedLine = 1

    /// The protocol auditd uses for local records.
    public static func forLocalRecords(enriched: Bool, hasNodeName: Bool) -> DispatchProtocol {
        enriched || hasNodeName ? .formattedLine : .kernelText
    }
}

/// Builds the string and binary messages for one record into buffers of its own, reused for
/// every record (the record path allocates nothing). A class, so the dispatcher can hold it while
/// it hands the built bytes on; used only under the dispatcher's lock.
public final class PluginMessageBuilder: @unchecked Sendable {
    public static let dataLength = 8970  // MAX_AUDIT_MESSAGE_LENGTH
    public static let headerLength = 16  // sizeof(struct audit_dispatcher_header)

    private var stringBytes: [UInt8] = []
    private var binaryBytes: [UInt8] = []
    private let names = MessageTypeNames()

    public init() {
        stringBytes.reserveCapacity(Self.dataLength + 64)
        binaryBytes.reserveCapacity(Self.headerLength + Self.dataLength)
    }

    /// One record as a string plugin gets it. `text` is the kernel's text (`AUDISP_PROTOCOL_VER`) or the
    /// formatted line without its newline (`AUDISP_PROTOCOL_VER2`).
    public func string<R>(type: AuditMessageType, text: UnsafeRawBufferPointer, protocol version: DispatchProtocol,
                                   _ body: (UnsafeRawBufferPointer) -> R) -> R {
        stringBytes.removeAll(keepingCapacity: true)
        switch version {
        case .kernelText:
            names.withPrefix(for: type) { stringBytes.append(contentsOf: $0) }
            // printf's %.*s stops at a NUL.
            let end = text.firstIndex(of: 0) ?? text.count
            stringBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[0..<end]))
        case .formattedLine:
            stringBytes.append(contentsOf: text.prefix(Self.dataLength))
        }
        stringBytes.append(0x0A)
        for index in 0..<(stringBytes.count - 1) where stringBytes[index] == 0x0A { stringBytes[index] = 0x20 }
        return stringBytes.withUnsafeBytes(body)
    }

    /// One record as a binary plugin gets it: the header and the data's `size` bytes; the message
    /// is written `framedLength` long, padded with zeros.
    public func binary<R>(type: AuditMessageType, text: UnsafeRawBufferPointer, protocol version: DispatchProtocol,
                                   _ body: (UnsafeRawBufferPointer, _ framedLength: Int) -> R) -> R {
        binaryBytes.removeAll(keepingCapacity: true)
        let data = UnsafeRawBufferPointer(rebasing: text.prefix(Self.dataLength))
        for field in [version.rawValue, UInt32(Self.headerLength), UInt32(type.rawValue), UInt32(data.count)] {
            withUnsafeBytes(of: field) { binaryBytes.append(contentsOf: $0) }
        }
        binaryBytes.append(contentsOf: data)
        return binaryBytes.withUnsafeBytes { body($0, Self.headerLength + Self.dataLength) }
    }
}
