import AuditProtocol
import CAudit
import Testing

/// AuditProtocol declares the kernel's constants in Swift; these pin them to the C headers.
@Suite struct HeaderConstantsTests {
    @Test func messageTypesMatchLinuxAuditH() {
        #expect(AuditMessageType.getStatus.rawValue == UInt16(AUDIT_GET))
        #expect(AuditMessageType.setStatus.rawValue == UInt16(AUDIT_SET))
        #expect(AuditMessageType.signalInfo.rawValue == UInt16(AUDIT_SIGNAL_INFO))
        #expect(AuditMessageType.user.rawValue == UInt16(AUDIT_USER))
        #expect(AuditMessageType.syscall.rawValue == UInt16(AUDIT_SYSCALL))
        #expect(AuditMessageType.configChange.rawValue == UInt16(AUDIT_CONFIG_CHANGE))
        #expect(AuditMessageType.endOfEvent.rawValue == UInt16(AUDIT_EOE))
        #expect(AuditMessageType.replace.rawValue == UInt16(AUDIT_REPLACE))
        #expect(AuditMessageType.kernel.rawValue == UInt16(AUDIT_KERNEL))
        #expect(AuditMessageType.daemonStart.rawValue == UInt16(AUDIT_DAEMON_START))
        #expect(AuditMessageType.daemonEnd.rawValue == UInt16(AUDIT_DAEMON_END))
        #expect(AuditMessageType.daemonAbort.rawValue == UInt16(AUDIT_DAEMON_ABORT))
        #expect(AuditMessageType.daemonConfig.rawValue == UInt16(AUDIT_DAEMON_CONFIG))
        // linux/audit.h stops at DAEMON_CONFIG; libaudit.h (and its name table) has the rest.
        #expect(String(cString: CAudit_message_type_name(Int32(AuditMessageType.daemonRotate.rawValue))) == "DAEMON_ROTATE")
        #expect(String(cString: CAudit_message_type_name(Int32(AuditMessageType.daemonResume.rawValue))) == "DAEMON_RESUME")
        #expect(AuditMessageType.error.rawValue == UInt16(NLMSG_ERROR))
    }

    /// Every message type AuditProtocol declares, with the name libaudit gives its number
    /// (`audit_msg_type_to_name`, the table auditd and ausearch write and read): a constant with a
    /// wrong number cannot hide behind a right-sounding Swift name. The netlink control messages
    /// and the requests have no record name, nor has `AUDIT_REPLACE` in libaudit 3.0.9 (it is
    /// pinned to the header above).
    @Test func everyDeclaredRecordTypeHasLibauditsName() {
        let declared: [(AuditMessageType, String)] = [
            (.user, "USER"), (.userManagement, "USER_MGMT"), (.userAVC, "USER_AVC"), (.addUser, "ADD_USER"),
            (.deleteUser, "DEL_USER"), (.addGroup, "ADD_GROUP"), (.deleteGroup, "DEL_GROUP"),
            (.trustedApp, "TRUSTED_APP"), (.groupManagement, "GRP_MGMT"),
            (.daemonStart, "DAEMON_START"), (.daemonEnd, "DAEMON_END"), (.daemonAbort, "DAEMON_ABORT"),
            (.daemonConfig, "DAEMON_CONFIG"), (.daemonRotate, "DAEMON_ROTATE"), (.daemonResume, "DAEMON_RESUME"),
            (.syscall, "SYSCALL"), (.configChange, "CONFIG_CHANGE"), (.execve, "EXECVE"),
            (.endOfEvent, "EOE"), (.netfilterPacket, "NETFILTER_PKT"), (.processTitle, "PROCTITLE"),
            (.avc, "AVC"), (.kernel, "KERNEL"),
        ]
        for (type, name) in declared {
            let libaudit = CAudit_message_type_name(Int32(type.rawValue)).map { String(cString: $0) }
            #expect(libaudit == name, "type \(type.rawValue)")
        }
        #expect(AuditMessageType.getStatus.rawValue == UInt16(AUDIT_GET))
        #expect(AuditMessageType.listRules.rawValue == UInt16(AUDIT_LIST_RULES))
        #expect(AuditMessageType.noop.rawValue == UInt16(NLMSG_NOOP))
        #expect(AuditMessageType.done.rawValue == UInt16(NLMSG_DONE))
    }

    @Test func statusMaskAndLayoutMatch() {
        #expect(AuditStatus.Mask.enabled.rawValue == UInt32(AUDIT_STATUS_ENABLED))
        #expect(AuditStatus.Mask.pid.rawValue == UInt32(AUDIT_STATUS_PID))
        #expect(AuditStatus.encodedSize <= MemoryLayout<audit_status>.size)
        #expect(NetlinkHeader.size == Int(CAudit_NLMSG_HDRLEN()))
    }

    @Test func libauditNamesTypesAsAuditdWrites() {
        #expect(String(cString: CAudit_message_type_name(1300)) == "SYSCALL")
        #expect(CAudit_message_type_name(2999) == nil)
        // Daemon records are named from the same table (ausearch -m DAEMON_START finds them).
        #expect(String(cString: CAudit_message_type_name(1200)) == "DAEMON_START")
        #expect(String(cString: CAudit_message_type_name(1205)) == "DAEMON_ROTATE")
    }
}
