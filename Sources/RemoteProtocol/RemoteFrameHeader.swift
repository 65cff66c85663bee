/// The 16-byte header of every frame between `audisp-remote` (format = managed) and the server,
/// as `AUDIT_RMW_PACK_HEADER` and `AUDIT_RMW_UNPACK_HEADER` in audit-userspace `lib/private.h`
/// (3.0.9) write and read it. Every field is little-endian ("network order (LSB first)", says
/// the header, whatever the machine's order):
///
/// | bytes | field |
/// | --- | --- |
/// | 0–3 | magic `0xff0000fe` (never contains a LF, so an ASCII-format line cannot start with it) |
/// | 4 | header version, 0 |
/// | 5 | message version, 0 |
/// | 6–9 | type (`RemoteMessageType`) |
/// | 10–11 | length of what follows, 0…`maximumMessageLength` |
/// | 12–15 | sequence id, copied from a message to its reply |
public struct RemoteFrameHeader: Hashable, Sendable {
    public static let size = 16
    public static let magic: UInt32 = 0xff00_00fe
    /// `AUDIT_RMW_HEADER_VERSION`: the only layout there is.
    public static let headerVersion: UInt8 = 0
    /// `MAX_AUDIT_MESSAGE_LENGTH` (lib/libaudit.h): the most a frame may carry after its header.
    /// auditd's and audisp-remote's buffers are this size; a longer frame is refused by both.
    public static let maximumMessageLength = 8970

    public var messageVersion: UInt8
    public var type: RemoteMessageType
    public var length: UInt16
    public var sequenceID: UInt32

    public init(type: RemoteMessageType, length: UInt16, sequenceID: UInt32, messageVersion: UInt8 = 0) {
        self.type = type
        self.length = length
        self.sequenceID = sequenceID
        self.messageVersion = messageVersion
    }

    /// Writes the 16 bytes at the start of `destination`, which must hold at least `size` bytes.
    public func write(to destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= Self.size, "a frame header needs \(Self.size) bytes")
        Self.store(Self.magic, at: 0, in: destination)
        destination[4] = Self.headerVersion
        destination[5] = messageVersion
        Self.store(type.rawValue, at: 6, in: destination)
        destination[10] = UInt8(truncatingIfNeeded: length)
        destination[11] = UInt8(truncatingIfNeeded: length >> 8)
        Self.store(sequenceID, at: 12, in: destination)
    }

    /// The 16 bytes, for tests and for callers that are not on the record path.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.size) { buffer, count in
            write(to: UnsafeMutableRawBufferPointer(buffer))
            count = Self.size
        }
    }

    private static func store(_ value: UInt32, at offset: Int, in destination: UnsafeMutableRawBufferPointer) {
        destination[offset] = UInt8(truncatingIfNeeded: value)
        destination[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        destination[offset + 2] = UInt8(truncatingIfNeeded: value >> 16)
        destination[offset + 3] = UInt8(truncatingIfNeeded: value >> 24)
    }

    static func load32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }
}
