/// Which record types end an event by themselves.
///
/// Mirrors `audit_is_last_record()` in audit-userspace's `common/common.c` (4.x): the kernel sends
/// PROCTITLE last in a system call's event and EOE after it; the types outside the kernel's
/// multi-record range (1300–2099) are one-record events.
public enum EventEndRule {
    static let login: Int32 = 1006            // AUDIT_LOGIN
    static let user: Int32 = 1005             // AUDIT_USER
    static let firstEvent: Int32 = 1300       // AUDIT_FIRST_EVENT
    static let endOfEvent: Int32 = 1320       // AUDIT_EOE
    static let proctitle: Int32 = 1327        // AUDIT_PROCTITLE
    static let macUnlabeledAllow: Int32 = 1406  // AUDIT_MAC_UNLBL_ALLOW
    static let macCalipsoDelete: Int32 = 1419   // AUDIT_MAC_CALIPSO_DEL
    static let kernel: Int32 = 2000           // AUDIT_KERNEL
    static let firstAnomaly: Int32 = 2100     // AUDIT_FIRST_ANOM_MSG

    /// Whether a record of `type` is the last of its event (auditd 4.x, `common/common.c`).
    public static func isLastRecord(_ type: Int32) -> Bool {
        type == proctitle || type == endOfEvent
            || (type > login && type < firstEvent) || type == user
            || type >= firstAnomaly || type == kernel
            || (type >= macUnlabeledAllow && type <= macCalipsoDelete)
    }

    /// Whether ausearch 3.0.9 takes an event whose *first* record has `type` as complete at once
    /// (`src/ausearch-lol.c: check_events` in v3.0.9: it looks only at the first record, and has
    /// neither EOE nor the LOGIN/USER distinction of 4.x).
    public static func endsAtFirstRecordInAusearch309(_ type: Int32) -> Bool {
        type == proctitle || type < firstEvent || type >= firstAnomaly || type == kernel
            || (type >= macUnlabeledAllow && type <= macCalipsoDelete)
    }
}
