// libFuzzer target: the netlink decoder. Any bytes as one received datagram.
//
// Datagram.classify must never trap, whatever the kernel or a forger sends; what it finds is then
// decoded as the daemon decodes it: a record's stamp, an AUDIT_GET reply, an ACK, signal info.
// Built by scripts/fuzz/run.sh (make fuzz); not part of the SwiftPM package.
import AuditProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlinkDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch Datagram.classify(bytes) {
    case let .record(type, payload, _):
        precondition(type.isLogged, "a record of a type that is never logged")
        precondition(payload.count == size - NetlinkHeader.size, "a record's payload is the datagram after its header")
        if let stamp = AuditStamp(parsing: payload) {
            precondition(stamp.milliseconds < 1000)
            _ = stamp.description
        }
    case let .reply(header, payload):
        precondition(Int(header.length) == NetlinkHeader.size + payload.count, "a reply's payload is what nlmsg_len declares")
        switch header.type {
        case .getStatus:
            if let status = try? AuditStatus(decoding: payload) {
                let again = status.encoded().withUnsafeBytes { try? AuditStatus(decoding: $0) }
                precondition(again == status, "AuditStatus does not survive encode and decode")
            }
        case .error:
            if let ack = try? NetlinkAcknowledgement(decoding: payload) {
                let again = ack.encoded().withUnsafeBytes { try? NetlinkAcknowledgement(decoding: $0) }
                precondition(again == ack, "NetlinkAcknowledgement does not survive encode and decode")
            }
        case .signalInfo:
            _ = try? SignalInfo(decoding: payload)
        default:
            break
        }
    case .notLogged, .malformed:
        break
    }
    // The stamp parser also meets payloads that are not records at all.
    _ = AuditStamp(parsing: bytes)
    return 0
}
