// libFuzzer target: the ENRICHED line formatter. Input: two bytes of message type, then a payload
// of any bytes, as the kernel could send it; user and group names come from a table that holds
// awkward names (spaces, quotes, newlines, empty, long).
//
// Whatever the payload and the names, an ENRICHED line is exactly one line: the RAW text, then the
// interpretations, then one newline; no other newline, and it fits the room the writer makes.
// Built by scripts/fuzz/run.sh (make fuzz); not part of the SwiftPM package.
import AuditProtocol
import AuditLog

final class AwkwardAccounts: AccountDirectory {
    static let names: [[UInt8]?] = [
        Array("root".utf8), nil, Array("name with spaces".utf8), Array("quote\"d".utf8), Array("new\nline".utf8),
        [], Array(repeating: 0x41, count: 300), [0xFF, 0xFE, 0x00, 0x1D],
    ]
    func userName(uid: UInt32) -> [UInt8]? { Self.names[Int(uid % UInt32(Self.names.count))] }
    func groupName(gid: UInt32) -> [UInt8]? { Self.names[Int((gid / 3) % UInt32(Self.names.count))] }
}

let formatter = RecordFormatter()
// missLifetime 0 and a fixed clock: the same input always gives the same line.
let enricher = RecordEnricher(directory: AwkwardAccounts(), missLifetime: 0, clock: { 0 })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnrichedFormatter(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let type = UInt16(data[0]) | UInt16(data[1]) << 8
    let payload = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    // As AuditLogWriter.append makes room for an ENRICHED line.
    let room = formatter.maximumLineLength(payloadLength: payload.count) + RecordEnricher.maximumAddedLength
    let buffer = OutputBuffer(capacity: room)
    formatter.appendRawText(type: AuditMessageType(type), payload: payload, to: buffer)
    enricher.appendInterpretations(type: AuditMessageType(type), lineStart: 0, to: buffer)
    buffer.append(byte: 0x0A)
    let line = buffer.bytes
    precondition(line.count <= room, "the line is longer than the room the writer makes for it")
    precondition(line.dropLast().firstIndex(of: 0x0A) == nil, "a record became more than one line")
    return 0
}
