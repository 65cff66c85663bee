import AuditSystem
import AuditProtocol
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Talks to the kernel over one `AuditSocket`: sends requests, matches replies by sequence number,
/// and hands every record that arrives, in the order it arrived, to the one record handler.
///
/// Replies are matched by type and sequence number, never by order: on a registered socket they
/// arrive interleaved with records (an `AUDIT_GET` reply can follow held records). Records that
/// arrive while a request waits for its answer are kept, in arrival order, and handed on only
/// after the request (`handleDeferredRecords()`, or the next `receiveAvailable()`): what the
/// handler does with them (a write, a rotation, a disk action) never runs in the middle of a
/// request, and nothing that follows the registration ACK is set aside or dropped.
public final class AuditClient {
    public let socket: AuditSocket
    public private(set) var counters = ReceiveCounters()
    public let batch: ReceiveBatch
    let logger: Logger
    private var nextSequence: UInt32 = 1
    /// Replies for requests still waiting, by sequence number. Control traffic only: small and rare.
    private var replies: [UInt32: [AuditReply]] = [:]
    /// Where records go; nil until given (a client that only asks questions drops them).
    private var recordHandler: RecordHandler?
    /// Whether a request waits for its answer: records are deferred meanwhile.
    private var requestInFlight = false
    /// Records that arrived while a request waited, oldest first.
    private var deferred = DeferredRecords()

    public init(socket: AuditSocket, batch: ReceiveBatch = ReceiveBatch(), logger: Logger) {
        self.socket = socket
        self.batch = batch
        self.logger = logger
    }

    /// Gives the client the one handler of every record it receives. Given once, before the first receive.
    public func handleRecords(with handler: @escaping RecordHandler) {
        precondition(recordHandler == nil, "the record handler is given once")
        recordHandler = handler
    }

    /// Hands the records that arrived while requests waited for their answers to the handler, in
    /// arrival order. The next `receiveAvailable()` does it first too; the record loop calls it
    /// right after each request, so they are written before what the request's caller does next.
    public func handleDeferredRecords() {
        guard !deferred.isEmpty, !requestInFlight else { return }
        if let recordHandler { deferred.forEach(recordHandler) }
        deferred.removeAll()
    }

    /// Records waiting to be handed on after a request.
    public var deferredRecordCount: Int { deferred.count }

    // MARK: - Requests

    /// Asks for the kernel's audit status.
    public func status(timeout: Duration = .seconds(5)) throws(AuditClientError) -> AuditStatus {
        let reply = try transact(.getStatus, wantsAck: false, expecting: .getStatus, timeout: timeout)
        return try reply.decode(for: .getStatus) { raw throws(AuditProtocolError) in try AuditStatus(decoding: raw) }
    }

    /// Changes the fields of `status` named by its mask, and waits for the kernel's ACK.
    public func set(_ status: AuditStatus, timeout: Duration = .seconds(5)) throws(AuditClientError) {
        _ = try transact(.setStatus, wantsAck: true, payload: status.encoded(), timeout: timeout)
    }

    /// Asks who last signalled the daemon (`AUDIT_SIGNAL_INFO`).
    public func signalInfo(timeout: Duration = .seconds(3)) throws(AuditClientError) -> SignalInfo {
        let reply = try transact(.signalInfo, wantsAck: false, expecting: .signalInfo, timeout: timeout)
        return try reply.decode(for: .signalInfo) { raw throws(AuditProtocolError) in try SignalInfo(decoding: raw) }
    }

    /// Sends a request and receives until its answer comes: a reply of type `expecting`, or the
    /// `NLMSG_ERROR` that ACKs or refuses it. Records that arrive meanwhile are deferred: the
    /// handler gets them after the request, never during it.
    @discardableResult
    public func transact(
        _ type: AuditMessageType, wantsAck: Bool, payload: [UInt8] = [], expecting: AuditMessageType? = nil,
        timeout: Duration
    ) throws(AuditClientError) -> AuditReply {
        precondition(!requestInFlight, "one request at a time")
        let request = NetlinkRequest(type: type, sequence: takeSequence(), wantsAck: wantsAck, payload: payload)
        replies[request.sequence] = []
        requestInFlight = true
        defer {
            replies[request.sequence] = nil
            requestInFlight = false
        }
        do { try socket.send(request.bytes) } catch { throw .system(error) }

        let deadline = MonotonicClock.milliseconds() + timeout.milliseconds
        while true {
            for reply in replies[request.sequence] ?? [] {
                if reply.header.type == .error {
                    let ack = try reply.decode(for: type) { raw throws(AuditProtocolError) in
                        try NetlinkAcknowledgement(decoding: raw)
                    }
                    if !ack.isSuccess { throw .refused(request: type, errno: ack.errorNumber) }
                    if expecting == nil { return reply }
                } else if reply.header.type == expecting {
                    return reply
                }
            }
            replies[request.sequence] = []
            let left = deadline - MonotonicClock.milliseconds()
            guard left > 0 else { throw .timedOut(request: type, after: timeout) }
            do {
                _ = try socket.waitReadable(timeoutMilliseconds: Int32(clamping: left))
                _ = try receiveBatch()
            } catch {
                throw .system(error)
            }
        }
    }

    private func takeSequence() -> UInt32 {
        defer { nextSequence = nextSequence == UInt32.max ? 1 : nextSequence + 1 }
        return nextSequence
    }

    // MARK: - Receiving

    /// Called with each record to write: its type and its payload. The payload is only valid
    /// during the call.
    public typealias RecordHandler = (AuditMessageType, UnsafeRawBufferPointer) -> Void

    /// Reads one batch of waiting datagrams without blocking and dispatches each: records to the
    /// handler (after any deferred during a request), replies to the requests waiting for them,
    /// everything else counted and reported.
    public func receiveAvailable() throws(SystemCallError) -> AuditSocket.ReceiveResult {
        handleDeferredRecords()
        return try receiveBatch()
    }

    private func receiveBatch() throws(SystemCallError) -> AuditSocket.ReceiveResult {
        let result = try socket.receive(into: batch)
        switch result {
        case let .received(count):
            for index in 0..<count { dispatch(index) }
        case .overrun:
            counters.overruns += 1
            if WarningLimiter.shouldReport(occurrence: counters.overruns) {
                logger.warning(
                    "netlink receive queue overflowed (ENOBUFS)",
                    metadata: ["overruns": "\(counters.overruns)", "socket": "\(socket.kind)"])
            }
        case .empty, .closed:
            break
        }
        return result
    }

    @inline(__always)
    private func dispatch(_ index: Int) {
        counters.datagrams += 1
        let bytes = batch.bytes(at: index)
        guard socket.acceptsSender(hasNetlinkAddress: batch.hasNetlinkSender(at: index), portID: batch.sender(at: index)) else {
            counters.refusedSenders += 1
            if WarningLimiter.shouldReport(occurrence: counters.refusedSenders) {
                logger.error(
                    "refused a datagram not sent by the kernel: it was not written",
                    metadata: ["sender": "\(batch.sender(at: index))", "refused": "\(counters.refusedSenders)",
                               "bytes": "\(hexPrefix(bytes))"])
            }
            return
        }
        switch Datagram.classify(bytes) {
        case let .record(type, payload, lengthMismatch):
            counters.records += 1
            if lengthMismatch { noteLengthMismatch(type: type, bytes: bytes) }
            if batch.isTruncated(at: index) { noteTruncated(type: type) }
            if requestInFlight {
                if recordHandler != nil { deferred.append(type: type, payload: payload) }
            } else {
                recordHandler?(type, payload)
            }
        case let .notLogged(type, payload):
            counters.notLogged += 1
            // The end of an event is not logged, but plugins get it (auditd's realtime interface):
            // the handler takes it, and knows by its type that the log does not.
            guard type == .endOfEvent else { return }
            if requestInFlight {
                if recordHandler != nil { deferred.append(type: type, payload: payload) }
            } else {
                recordHandler?(type, payload)
            }
        case let .reply(header, payload):
            counters.replies += 1
            if replies[header.sequence] != nil {
                replies[header.sequence]!.append(AuditReply(header: header, payload: Array(payload)))
            } else if header.type == .error, let ack = try? NetlinkAcknowledgement(decoding: payload), !ack.isSuccess {
                logger.warning("the kernel refused a request nobody waits for",
                               metadata: ["request": "\(ack.request.type)", "errno": "\(ack.errorNumber)"])
            }
        case let .malformed(problem):
            counters.malformed += 1
            if WarningLimiter.shouldReport(occurrence: counters.malformed) {
                logger.error("refused a malformed datagram: \(problem)",
                             metadata: ["malformed": "\(counters.malformed)", "bytes": "\(hexPrefix(bytes))"])
            }
        }
    }

    private func noteLengthMismatch(type: AuditMessageType, bytes: UnsafeRawBufferPointer) {
        counters.lengthMismatches += 1
        if WarningLimiter.shouldReport(occurrence: counters.lengthMismatches) {
            let declared = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            logger.warning(
                "record's nlmsg_len matches neither framing; written with the datagram's length",
                metadata: ["type": "\(type)", "nlmsg_len": "\(declared)", "datagram": "\(bytes.count)",
                           "mismatches": "\(counters.lengthMismatches)"])
        }
    }

    private func noteTruncated(type: AuditMessageType) {
        counters.truncated += 1
        if WarningLimiter.shouldReport(occurrence: counters.truncated) {
            logger.error("record longer than the \(batch.slotSize)-byte receive slot; written cut short",
                         metadata: ["type": "\(type)", "truncated": "\(counters.truncated)"])
        }
    }
}

/// A reply to a request, copied out of the receive batch.
public struct AuditReply: Sendable {
    public var header: NetlinkHeader
    public var payload: [UInt8]

    /// Decodes the payload; a failure names the request the reply answers.
    func decode<T>(
        for request: AuditMessageType, _ body: (UnsafeRawBufferPointer) throws(AuditProtocolError) -> T
    ) throws(AuditClientError) -> T {
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(AuditProtocolError) -> T in try body(raw) }
        }
        switch result {
        case let .success(value): return value
        case let .failure(error): throw .badReply(request: request, error)
        }
    }
}

/// Why a request to the kernel did not succeed.
public enum AuditClientError: Error, Sendable, CustomStringConvertible {
    /// The kernel answered with an error (`NLMSG_ERROR` carrying `-errno`).
    case refused(request: AuditMessageType, errno: Int32)
    case timedOut(request: AuditMessageType, after: Duration)
    case badReply(request: AuditMessageType, AuditProtocolError)
    case system(SystemCallError)

    public var description: String {
        switch self {
        case let .refused(request, code):
            "the kernel refused \(requestName(request)): \(Errno(code).description) (errno \(code))"
        case let .timedOut(request, after):
            "no answer from the kernel to \(requestName(request)) within \(after)"
        case let .badReply(request, error):
            "unreadable reply to \(requestName(request)): \(error)"
        case let .system(error):
            "\(error)"
        }
    }
}

private func requestName(_ type: AuditMessageType) -> String {
    switch type {
    case .getStatus: "AUDIT_GET"
    case .setStatus: "AUDIT_SET"
    case .signalInfo: "AUDIT_SIGNAL_INFO"
    default: "request type \(type.rawValue)"
    }
}
