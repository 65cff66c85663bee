/// The `type` field of a remote-logging frame (audit-userspace `lib/private.h`, 3.0.9).
///
/// The upper bits are generic: `0x40000000` marks a reply, `0x20000000` a fatal reply,
/// `0x10000000` a reply that succeeded with a warning; the low 20 bits are the detail.
public struct RemoteMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A record from the client (`AUDIT_RMW_TYPE_MESSAGE`).
    public static let message = RemoteMessageType(rawValue: 0x0000_0000)
    /// "Are you there?" from the client, answered by an ACK (`AUDIT_RMW_TYPE_HEARTBEAT`).
    public static let heartbeat = RemoteMessageType(rawValue: 0x0000_0001)
    /// The record was logged (`AUDIT_RMW_TYPE_ACK`).
    public static let ack = RemoteMessageType(rawValue: 0x4000_0000)
    /// The server is going down (`AUDIT_RMW_TYPE_ENDING`), sent to every client at shutdown.
    public static let ending = RemoteMessageType(rawValue: 0x4000_0001)
    /// Logged, but the server's disk is low (`AUDIT_RMW_TYPE_DISKLOW`, a warning).
    public static let diskLow = RemoteMessageType(rawValue: 0x5000_0001)
    /// Not logged: the server's disk is full (`AUDIT_RMW_TYPE_DISKFULL`, fatal).
    public static let diskFull = RemoteMessageType(rawValue: 0x6000_0001)
    /// Not logged: the server could not write (`AUDIT_RMW_TYPE_DISKERROR`, fatal).
    public static let diskError = RemoteMessageType(rawValue: 0x6000_0002)

    /// Whether the type is one a client sends (what a server accepts).
    public var isFromClient: Bool { self == .message || self == .heartbeat }
    public var isReply: Bool { rawValue & 0x4000_0000 != 0 }

    public var description: String {
        switch self {
        case .message: "MESSAGE"
        case .heartbeat: "HEARTBEAT"
        case .ack: "ACK"
        case .ending: "ENDING"
        case .diskLow: "DISKLOW"
        case .diskFull: "DISKFULL"
        case .diskError: "DISKERROR"
        default: "0x" + String(rawValue, radix: 16)
        }
    }
}
