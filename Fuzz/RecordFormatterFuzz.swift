// libFuzzer target: the line formatter. Input: two bytes of message type, one byte of options,
// then a payload of any bytes, as the kernel could send it.
//
// Whatever the payload, a RAW line is exactly one line: it ends with a newline, holds no other
// newline and no NUL, and fits in the room the writer made for it.
// Built by scripts/fuzz/run.sh (make fuzz); not part of the SwiftPM package.
import AuditProtocol
import AuditLog

let formatters = [RecordFormatter(), RecordFormatter(nodeName: "fuzz-node")]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordFormatter(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let type = UInt16(data[0]) | UInt16(data[1]) << 8
    let formatter = formatters[Int(data[2] & 1)]
    let payload = UnsafeRawBufferPointer(start: data + 3, count: size - 3)
    let room = formatter.maximumLineLength(payloadLength: payload.count)
    let buffer = OutputBuffer(capacity: room)
    formatter.appendRaw(type: AuditMessageType(type), payload: payload, to: buffer)
    let line = buffer.bytes
    precondition(line.count <= room, "the line is longer than the room the writer makes for it")
    precondition(line.last == 0x0A, "a line ends with a newline")
    precondition(line.dropLast().firstIndex(of: 0x0A) == nil, "a record became more than one line")
    precondition(line.firstIndex(of: 0) == nil, "a NUL byte in a line")
    return 0
}
