import AuditProtocol
/// The fields auditd 3.0.9's ENRICHED format interprets, by name, and what each becomes.
///
/// auditd (`src/auditd-event.c: format_enrich`) interprets five of auparse's field types: UID,
/// GID, SYSCALL, ARCH and SOCKADDR. Which names have them is auparse's table
/// (`auparse/typetab.h`) as Debian's libauparse 3.0.9 answers `auparse_interp_adjust_type`: 13 user
/// ids, 9 group ids, `syscall`, `arch` and `saddr` (`uring_op` came later). The record type changes
/// a few (`adjusted(for:)`).
struct InterpretedField {
    enum Kind { case user, group, systemCall, arch, socketAddress }

    let kind: Kind
    /// The name as written before the `=`, upper-cased as auditd writes it (`toupper` per byte).
    let label: StaticString

    /// The field whose name, `count` bytes long, starts with the 8 bytes packed in `key` (bytes
    /// past the name zero) and has `ninth` as its 9th byte.
    @inline(__always)
    static func named(key: UInt64, count: Int, ninth: UInt8) -> InterpretedField? {
        switch count {
        case 2: return key == Key.id ? .id : nil
        case 3:
            if key == Key.uid { return .uid }
            if key == Key.gid { return .gid }
        case 4:
            switch key {
            case Key.auid: return .auid
            case Key.euid: return .euid
            case Key.suid: return .suid
            case Key.ouid: return .ouid
            case Key.iuid: return .iuid
            case Key.egid: return .egid
            case Key.sgid: return .sgid
            case Key.ogid: return .ogid
            case Key.igid: return .igid
            case Key.arch: return .arch
            default: break
            }
        case 5:
            switch key {
            case Key.fsuid: return .fsuid
            case Key.oauid: return .oauid
            case Key.sauid: return .sauid
            case Key.fsgid: return .fsgid
            case Key.saddr: return .saddr
            default: break
            }
        case 7:
            switch key {
            case Key.obj_uid: return .obj_uid
            case Key.obj_gid: return .obj_gid
            case Key.new_gid: return .new_gid
            case Key.syscall: return .syscall
            default: break
            }
        case 8: return key == Key.old_auid ? .old_auid : nil
        case 9:
            guard ninth == UInt8(ascii: "d") else { return nil }
            if key == Key.inode_ui { return .inode_uid }
            if key == Key.inode_gi { return .inode_gid }
        default: break
        }
        return nil
    }

    /// The field as a record of `type` has it (`auparse/interpret.c: auparse_interp_adjust_type`),
    /// nil when that record type keeps it uninterpreted. `name` is the field's name.
    func adjusted(for type: AuditMessageType, name: UnsafeRawBufferPointer) -> InterpretedField? {
        switch type {
        case .execve:
            // Every EXECVE field named a… but argc is an argument: escaped, never enriched.
            return name[0] == UInt8(ascii: "a") ? nil : self
        case .trustedApp:
            return nil
        case .avc, .netfilterPacket:
            return kind == .socketAddress ? nil : self
        case .addGroup, .groupManagement, .deleteGroup:
            // `id` names a group in these records; it is the only two-letter name.
            return name.count == 2 ? .groupID : self
        default:
            return self
        }
    }

    static var id: InterpretedField { InterpretedField(kind: .user, label: "ID") }
    static var groupID: InterpretedField { InterpretedField(kind: .group, label: "ID") }
    static var uid: InterpretedField { InterpretedField(kind: .user, label: "UID") }
    static var gid: InterpretedField { InterpretedField(kind: .group, label: "GID") }
    static var auid: InterpretedField { InterpretedField(kind: .user, label: "AUID") }
    static var euid: InterpretedField { InterpretedField(kind: .user, label: "EUID") }
    static var suid: InterpretedField { InterpretedField(kind: .user, label: "SUID") }
    static var ouid: InterpretedField { InterpretedField(kind: .user, label: "OUID") }
    static var iuid: InterpretedField { InterpretedField(kind: .user, label: "IUID") }
    static var egid: InterpretedField { InterpretedField(kind: .group, label: "EGID") }
    static var sgid: InterpretedField { InterpretedField(kind: .group, label: "SGID") }
    static var ogid: InterpretedField { InterpretedField(kind: .group, label: "OGID") }
    static var igid: InterpretedField { InterpretedField(kind: .group, label: "IGID") }
    static var fsuid: InterpretedField { InterpretedField(kind: .user, label: "FSUID") }
    static var oauid: InterpretedField { InterpretedField(kind: .user, label: "OAUID") }
    static var sauid: InterpretedField { InterpretedField(kind: .user, label: "SAUID") }
    static var fsgid: InterpretedField { InterpretedField(kind: .group, label: "FSGID") }
    static var obj_uid: InterpretedField { InterpretedField(kind: .user, label: "OBJ_UID") }
    static var obj_gid: InterpretedField { InterpretedField(kind: .group, label: "OBJ_GID") }
    static var new_gid: InterpretedField { InterpretedField(kind: .group, label: "NEW_GID") }
    static var old_auid: InterpretedField { InterpretedField(kind: .user, label: "OLD-AUID") }
    static var inode_uid: InterpretedField { InterpretedField(kind: .user, label: "INODE_UID") }
    static var inode_gid: InterpretedField { InterpretedField(kind: .group, label: "INODE_GID") }
    static var arch: InterpretedField { InterpretedField(kind: .arch, label: "ARCH") }
    static var syscall: InterpretedField { InterpretedField(kind: .systemCall, label: "SYSCALL") }
    static var saddr: InterpretedField { InterpretedField(kind: .socketAddress, label: "SADDR") }

    /// Names packed little-endian into a UInt64 (their first 8 bytes), to match a name in one
    /// compare; literals, so the record path never waits on a lazy global.
    private enum Key {
        static var id: UInt64 { 0x0000000000006469 }  // "id"
        static var uid: UInt64 { 0x0000000000646975 }  // "uid"
        static var gid: UInt64 { 0x0000000000646967 }  // "gid"
        static var auid: UInt64 { 0x0000000064697561 }  // "auid"
        static var euid: UInt64 { 0x0000000064697565 }  // "euid"
        static var suid: UInt64 { 0x0000000064697573 }  // "suid"
        static var ouid: UInt64 { 0x000000006469756F }  // "ouid"
        static var iuid: UInt64 { 0x0000000064697569 }  // "iuid"
        static var egid: UInt64 { 0x0000000064696765 }  // "egid"
        static var sgid: UInt64 { 0x0000000064696773 }  // "sgid"
        static var ogid: UInt64 { 0x000000006469676F }  // "ogid"
        static var igid: UInt64 { 0x0000000064696769 }  // "igid"
        static var arch: UInt64 { 0x0000000068637261 }  // "arch"
        static var fsuid: UInt64 { 0x0000006469757366 }  // "fsuid"
        static var oauid: UInt64 { 0x000000646975616F }  // "oauid"
        static var sauid: UInt64 { 0x0000006469756173 }  // "sauid"
        static var fsgid: UInt64 { 0x0000006469677366 }  // "fsgid"
        static var saddr: UInt64 { 0x0000007264646173 }  // "saddr"
        static var obj_uid: UInt64 { 0x006469755F6A626F }  // "obj_uid"
        static var obj_gid: UInt64 { 0x006469675F6A626F }  // "obj_gid"
        static var new_gid: UInt64 { 0x006469675F77656E }  // "new_gid"
        static var syscall: UInt64 { 0x006C6C6163737973 }  // "syscall"
        static var old_auid: UInt64 { 0x646975612D646C6F }  // "old-auid"
        static var inode_ui: UInt64 { 0x69755F65646F6E69 }  // "inode_ui"
        static var inode_gi: UInt64 { 0x69675F65646F6E69 }  // "inode_gi"
    }
}
