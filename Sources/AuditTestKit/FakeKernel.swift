import AuditNetlink
import AuditProtocol
import Foundation
import Synchronization

/// The kernel's side of the audit netlink protocol, played over a socket pair so the daemon's real
/// code runs unchanged in tests, without root.
///
/// It answers `AUDIT_GET`, `AUDIT_SET` (enabled and pid) and `AUDIT_SIGNAL_INFO` as kernel/audit.c
/// does, acknowledges a registration before it sends the held records (`auditd_set`), then its
/// `CONFIG_CHANGE op=set audit_pid=…` record, and emits whatever a test asks for, malformed
/// datagrams included.
public final class FakeKernel: Sendable {
    /// How the fake kernel answers; fixed when it is made.
    public struct Behaviour: Sendable {
        public var status = AuditStatus(enabled: 0, failure: 1, backlogLimit: 64)
        /// Answer `AUDIT_SET pid` with this errno instead of accepting (EEXIST, EPERM, …).
        public var registrationError: Int32?
        /// Answer `AUDIT_GET` with this errno instead of the status.
        public var statusError: Int32?
        /// Records the kernel held for a daemon, sent right after the registration ACK.
        public var heldRecords: [Record] = []
        /// Sent after the ACK of an unregistration request is queued…
        public var recordsBeforeUnregisterAck: [Record] = []
        /// …and right after it: records a kernel thread was already sending when the daemon left.
        public var recordsAfterUnregisterAck: [Record] = []
        /// The answer to `AUDIT_SIGNAL_INFO`; nil answers with an error (EINVAL).
        public var signalInfo: SignalInfo?
        /// Records sent just before each `AUDIT_SIGNAL_INFO` answer: they arrive while the daemon
        /// waits for it.
        public var recordsBeforeSignalInfoReply: [Record] = []
        /// Answer `AUDIT_SET enabled` with this errno instead of accepting.
        public var enableError: Int32?
        /// Wait this long before acknowledging a registration (and sending the held records).
        public var registrationAckDelay: Duration?
        /// Stamp of the registration marker record.
        public var markerStamp = "audit(1700000000.500:100)"

        public init() {}
    }

    /// A record as the kernel sends it to the registered daemon.
    public struct Record: Sendable, Hashable {
        public var type: AuditMessageType
        public var text: String
        public init(_ type: AuditMessageType, _ text: String) {
            self.type = type
            self.text = text
        }
    }

    /// The daemon's end of the pair.
    public let daemonSocket: AuditSocket
    private let kernelSocket: AuditSocket
    private let state: Mutex<State>
    private let behaviour: Behaviour

    private struct State {
        var status: AuditStatus
        var requests: [NetlinkHeader] = []
        var registrations: [UInt32] = []
        var registrationAcknowledgedAt: ContinuousClock.Instant?
        var registrationAnnounced = false
        var closed = false
    }

    public init(_ behaviour: Behaviour = Behaviour()) throws {
        let (daemon, kernel) = try AuditSocket.pair()
        daemonSocket = daemon
        kernelSocket = kernel
        self.behaviour = behaviour
        state = Mutex(State(status: behaviour.status))
        let thread = Thread { [self] in serve() }
        thread.name = "FakeKernel"
        thread.start()
    }

    /// Every request received so far, in order.
    public var requests: [NetlinkHeader] { state.withLock { $0.requests } }
    /// The kernel's status as the daemon's requests have left it.
    public var status: AuditStatus { state.withLock { $0.status } }
    /// Every pid an `AUDIT_SET pid` asked for, 0 for an unregistration, in order.
    public var registrations: [UInt32] { state.withLock { $0.registrations } }

    /// Waits until `condition` holds of the kernel's state; false on timeout.
    public func wait(timeout: Duration = .seconds(10), until condition: (FakeKernel) -> Bool) -> Bool {
        eventually(timeout: timeout) { condition(self) }
    }

    /// When the last registration was acknowledged, or nil.
    public var registrationAcknowledgedAt: ContinuousClock.Instant? { state.withLock { $0.registrationAcknowledgedAt } }

    /// Whether a daemon is registered now and the kernel has sent it everything it queued at the
    /// registration (held records and the `CONFIG_CHANGE` record). As in the kernel, whose one
    /// main queue keeps records made after a registration behind that record, a test that emits
    /// live records once this is true gets them after the held ones.
    public var isRegistered: Bool { state.withLock { $0.status.pid != 0 && $0.registrationAnnounced } }

    // MARK: - Emitting

    /// Sends a record framed as on the registered daemon's socket: `nlmsg_len` counts the payload only.
    public func emit(_ record: Record) throws {
        try emit(raw: Self.datagram(record.type, Array(record.text.utf8), framing: .unicast))
    }

    public func emit(_ type: AuditMessageType, _ text: String) throws { try emit(Record(type, text)) }

    /// Sends arbitrary bytes as one datagram.
    public func emit(raw bytes: [UInt8]) throws { try kernelSocket.send(bytes) }

    /// Closes the kernel's end, as if the kernel went away: the daemon sees the pair close.
    public func close() {
        state.withLock { $0.closed = true }
        shutdown(kernelSocket.descriptor, Int32(SHUT_RDWR))
    }

    public enum Framing: Sendable {
        /// `nlmsg_len` = payload length (records to the registered daemon).
        case unicast
        /// `nlmsg_len` = header + payload (multicast copies and replies).
        case standard
        /// `nlmsg_len` set to this value, whatever the payload.
        case declared(UInt32)
    }

    /// Builds one datagram: a netlink header followed by `payload`.
    public static func datagram(_ type: AuditMessageType, _ payload: [UInt8], framing: Framing,
                                sequence: UInt32 = 0) -> [UInt8] {
        let length: UInt32 = switch framing {
        case .unicast: UInt32(payload.count)
        case .standard: UInt32(NetlinkHeader.size + payload.count)
        case let .declared(value): value
        }
        var writer = ByteWriter(capacity: NetlinkHeader.size + payload.count)
        NetlinkHeader(length: length, type: type, flags: [], sequence: sequence).encode(into: &writer)
        writer.write(payload)
        return writer.bytes
    }

    // MARK: - Answering requests

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(kernelSocket.descriptor, &buffer, buffer.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            let message = Array(buffer[0..<count])
            message.withUnsafeBytes { answer($0) }
        }
    }

    private func answer(_ bytes: UnsafeRawBufferPointer) {
        var reader = ByteReader(bytes)
        guard let header = try? NetlinkHeader(decoding: &reader) else { return }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[NetlinkHeader.size...])
        state.withLock { $0.requests.append(header) }
        switch header.type {
        case .getStatus:
            if let code = behaviour.statusError { return send(error: code, to: header) }
            reply(.getStatus, state.withLock { $0.status }.encoded(), to: header)
        case .setStatus:
            guard let change = try? AuditStatus(decoding: payload) else { return send(error: EINVAL, to: header) }
            applySet(change, request: header)
        case .signalInfo:
            for record in behaviour.recordsBeforeSignalInfoReply { try? emit(record) }
            guard let info = behaviour.signalInfo else { return send(error: EINVAL, to: header) }
            reply(.signalInfo, info.encoded(), to: header)
        default:
            send(error: EINVAL, to: header)
        }
    }

    private func applySet(_ change: AuditStatus, request: NetlinkHeader) {
        if change.mask.contains(.enabled) {
            if let code = behaviour.enableError { return send(error: code, to: request) }
            state.withLock { $0.status.enabled = change.enabled }
        }
        guard change.mask.contains(.pid) else {
            if request.flags.contains(.ack) { send(error: 0, to: request) }
            return
        }
        state.withLock { $0.registrations.append(change.pid) }
        if change.pid != 0 {
            if let code = behaviour.registrationError { return send(error: code, to: request) }
            if let delay = behaviour.registrationAckDelay {
                Thread.sleep(forTimeInterval: delay.seconds)
            }
            state.withLock {
                $0.status.pid = change.pid
                $0.registrationAcknowledgedAt = ContinuousClock.now
            }
            // kernel/audit.c auditd_set(): "send the ack now to avoid a race with the queue backlog"
            send(error: 0, to: request)
            for record in behaviour.heldRecords { try? emit(record) }
            try? emit(.configChange, "\(behaviour.markerStamp): op=set audit_pid=\(change.pid) old=0 auid=4294967295 ses=4294967295 res=1")
            state.withLock { $0.registrationAnnounced = true }
        } else {
            for record in behaviour.recordsBeforeUnregisterAck { try? emit(record) }
            state.withLock {
                $0.status.pid = 0
                $0.registrationAnnounced = false
            }
            send(error: 0, to: request)
            for record in behaviour.recordsAfterUnregisterAck { try? emit(record) }
        }
    }

    private func reply(_ type: AuditMessageType, _ payload: [UInt8], to request: NetlinkHeader) {
        try? emit(raw: Self.datagram(type, payload, framing: .standard, sequence: request.sequence))
    }

    private func send(error code: Int32, to request: NetlinkHeader) {
        let ack = NetlinkAcknowledgement(errorNumber: code, request: request)
        try? emit(raw: Self.datagram(.error, ack.encoded(), framing: .standard, sequence: request.sequence))
    }
}
