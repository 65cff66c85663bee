import AuditProtocol

/// Counts the records the kernel held for us before we registered, so the daemon can say how much
/// of the time before it started it recovered.
///
/// After the registration ACK the kernel sends its hold queue first, then its main queue, where
/// its `CONFIG_CHANGE op=set audit_pid=<our pid>` record sits behind everything produced before
/// registration (`kauditd_thread`, `auditd_set`, kernel/audit.c). So the records that arrive
/// before that marker are the held backlog. The kernel writes the marker only while auditing is
/// enabled; without it, records stamped before the registration time are counted instead.
struct HeldBacklogTracker {
    let registeredAt: UInt64
    private let marker: [UInt8]
    private(set) var markerSeen = false
    private var beforeMarker: UInt64 = 0
    private var stampedBefore: UInt64 = 0
    private(set) var first: AuditStamp?
    private(set) var last: AuditStamp?

    /// - Parameters:
    ///   - pid: the pid we registered.
    ///   - registeredAt: wall-clock milliseconds taken just before `AUDIT_SET`.
    init(pid: UInt32, registeredAt: UInt64) {
        self.registeredAt = registeredAt
        marker = Array("op=set audit_pid=\(pid) ".utf8)
    }

    /// The number of held records collected.
    var collected: UInt64 { markerSeen ? beforeMarker : stampedBefore }

    mutating func observe(type: AuditMessageType, payload: UnsafeRawBufferPointer) {
        guard !markerSeen else { return }
        if type == .configChange, contains(payload, marker) {
            markerSeen = true
            return
        }
        beforeMarker += 1
        if let stamp = AuditStamp(parsing: payload) {
            if stamp.time < registeredAt { stampedBefore += 1 }
            if first == nil || stamp < first! { first = stamp }
            if last == nil || last! < stamp { last = stamp }
        }
    }

    private func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) {
            var index = 0
            while index < needle.count, haystack[start + index] == needle[index] { index += 1 }
            if index == needle.count { return true }
        }
        return false
    }
}
