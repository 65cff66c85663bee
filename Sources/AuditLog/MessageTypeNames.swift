import AuditProtocol
import CAudit

/// The `type=NAME msg=` prefix of a line, for each message type, as auditd writes it.
///
/// Names come from libaudit's table (`audit_msg_type_to_name`), the one auditd 3.0.9 and ausearch
/// use; a type it does not know is written `UNKNOWN[n]` in decimal (`src/auditd-event.c:
/// format_raw`). Prefixes for the types the kernel uses (below 3000) are built once, so the record
/// path only copies bytes.
public struct MessageTypeNames: Sendable {
    static let tableSize = 3000
    private let prefixBytes: [UInt8]
    private let offsets: [Int32]

    public init() {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        bytes.reserveCapacity(Self.tableSize * 24)
        offsets.reserveCapacity(Self.tableSize + 1)
        for type in 0..<Self.tableSize {
            bytes.append(contentsOf: Self.makePrefix(AuditMessageType(UInt16(type))))
            offsets.append(Int32(bytes.count))
        }
        prefixBytes = bytes
        self.offsets = offsets
    }

    /// libaudit's name for `type`, or `UNKNOWN[n]`.
    public static func name(of type: AuditMessageType) -> String {
        if let name = CAudit_message_type_name(Int32(type.rawValue)) { return String(cString: name) }
        // Debian's libaudit1 3.0.9 has no name for the listener's two records, yet auditd 3.0.9
        // writes them as DAEMON_ACCEPT and DAEMON_CLOSE (Tests/Fixtures/remote-auditd-3.0.9).
        if type.rawValue == 1224 { return "DAEMON_ACCEPT" }
        if type.rawValue == 1225 { return "DAEMON_CLOSE" }
        return "UNKNOWN[\(type.rawValue)]"
    }

    /// The type libaudit gives `name` (`SYSCALL`, `UNKNOWN[1335]`), as auparse reads a line's
    /// `type=` back; nil when it is no type.
    public static func type(named name: String) -> AuditMessageType? {
        let number = CAudit_message_type_number(name)
        return number >= 0 && number <= Int32(UInt16.max) ? AuditMessageType(UInt16(number)) : nil
    }

    static func makePrefix(_ type: AuditMessageType) -> [UInt8] {
        Array("type=\(name(of: type)) msg=".utf8)
    }

    /// Calls `body` with the prefix bytes for `type`.
    public func withPrefix<R>(for type: AuditMessageType, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if Int(type.rawValue) < Self.tableSize {
            return withCachedPrefix(Int(type.rawValue), body)
        }
        return Self.makePrefix(type).withUnsafeBytes(body)
    }

    private func withCachedPrefix<R>(_ type: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let start = Int(offsets[type]), end = Int(offsets[type + 1])
        return prefixBytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }
}
