/// An audit netlink message type: a request, a reply, or a record the kernel produced.
///
/// The values mirror `<linux/netlink.h>` and `<linux/audit.h>`; `HeaderConstantsTests`
/// (AuditProtocolTests) pins them to the headers. Names for log lines (`SYSCALL`, `PATH`, ...) come from libaudit, not from here.
public struct AuditMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public var description: String { "\(rawValue)" }

    // MARK: - Netlink control messages

    /// `NLMSG_NOOP`.
    public static var noop: Self { .init(1) }
    /// `NLMSG_ERROR`: an ACK (error 0) or a failed request (a negative errno).
    public static var error: Self { .init(2) }
    /// `NLMSG_DONE`.
    public static var done: Self { .init(3) }

    // MARK: - Audit requests and replies

    /// `AUDIT_GET`: ask for, and the reply carrying, `struct audit_status`.
    public static var getStatus: Self { .init(1000) }
    /// `AUDIT_SET`: change fields of `struct audit_status` named by its mask.
    public static var setStatus: Self { .init(1001) }
    /// `AUDIT_SIGNAL_INFO`: who last sent the registered daemon a signal.
    public static var signalInfo: Self { .init(1010) }
    /// `AUDIT_LIST_RULES`.
    public static var listRules: Self { .init(1013) }

    // MARK: - Records

    /// `AUDIT_USER`: a user-space message (`auditctl -m`).
    public static var user: Self { .init(1005) }
    /// `AUDIT_USER_MGMT`: a user-space account change (ENRICHED forgets cached names after it).
    public static var userManagement: Self { .init(1102) }
    /// `AUDIT_USER_AVC`: a user-space SELinux decision.
    public static var userAVC: Self { .init(1107) }
    /// `AUDIT_ADD_USER`.
    public static var addUser: Self { .init(1114) }
    /// `AUDIT_DEL_USER`.
    public static var deleteUser: Self { .init(1115) }
    /// `AUDIT_ADD_GROUP`.
    public static var addGroup: Self { .init(1116) }
    /// `AUDIT_DEL_GROUP`.
    public static var deleteGroup: Self { .init(1117) }
    /// `AUDIT_TRUSTED_APP`.
    public static var trustedApp: Self { .init(1121) }
    /// `AUDIT_GRP_MGMT`.
    public static var groupManagement: Self { .init(1132) }
    /// `AUDIT_DAEMON_START`; daemon records are written by the daemon, never sent by the kernel.
    public static var daemonStart: Self { .init(1200) }
    /// `AUDIT_DAEMON_END`: the daemon stopped (SIGTERM), with who asked.
    public static var daemonEnd: Self { .init(1201) }
    /// `AUDIT_DAEMON_ABORT`: the daemon could not start (enable or registration refused).
    public static var daemonAbort: Self { .init(1202) }
    /// `AUDIT_DAEMON_CONFIG`: a reload (SIGHUP), applied or refused.
    public static var daemonConfig: Self { .init(1203) }
    /// `AUDIT_DAEMON_ROTATE`: the log was rotated on request (SIGUSR1); first line of the new file.
    public static var daemonRotate: Self { .init(1205) }
    /// `AUDIT_DAEMON_RESUME`: logging resumed (SIGUSR2).
    public static var daemonResume: Self { .init(1206) }
    /// `AUDIT_SYSCALL`.
    public static var syscall: Self { .init(1300) }
    /// `AUDIT_CONFIG_CHANGE`: among others, the kernel's note that a daemon registered.
    public static var configChange: Self { .init(1305) }
    /// `AUDIT_EXECVE`: a program's arguments.
    public static var execve: Self { .init(1309) }
    /// `AUDIT_EOE`: end of a multi-record event. For real-time readers; never written to disk.
    public static var endOfEvent: Self { .init(1320) }
    /// `AUDIT_NETFILTER_PKT`.
    public static var netfilterPacket: Self { .init(1324) }
    /// `AUDIT_PROCTITLE`.
    public static var processTitle: Self { .init(1327) }
    /// `AUDIT_REPLACE`: the kernel's probe of whether the registered daemon is alive.
    public static var replace: Self { .init(1329) }
    /// `AUDIT_AVC`: an SELinux decision.
    public static var avc: Self { .init(1400) }
    /// `AUDIT_KERNEL`: the kernel's first record at boot (`state=initialized`).
    public static var kernel: Self { .init(2000) }
}

extension AuditMessageType {
    /// Whether a message of this type is something auditd writes to its log.
    ///
    /// Not written (`src/auditd.c: netlink_handler` and `lib/netlink.c`, audit-userspace): netlink
    /// control messages, the request/reply types 1000–1004 and 1007–1019, daemon types 1200–1299
    /// (the kernel can never inject those), `AUDIT_REPLACE`, and `AUDIT_EOE`, which marks the end of
    /// an event for real-time readers only. auditd writes types outside its known ranges as
    /// `msg=lost`; swift-auditd writes their payload under `UNKNOWN[n]` instead.
    @inlinable
    public var isLogged: Bool {
        switch rawValue {
        case 0..<16: false
        case 1000...1004, 1007...1019: false
        case 1200...1299: false
        case 1320, 1329: false
        default: true
        }
    }

    /// Whether the message is a reply to a request (matched by sequence number), not a record.
    @inlinable
    public var isReply: Bool {
        switch rawValue {
        case 0..<16, 1000...1004, 1007...1019: true
        default: false
        }
    }
}
