// libFuzzer target: the remote-logging frame decoder. Any bytes as what one client sent.
//
// RemoteFrame.parse must never trap, whatever a client sends; every frame it finds must be one a
// client may send, inside the limits, with a record free of NULs; and the stream must decode to
// the same frames and the same kind of error whether it arrives whole or a few bytes at a time
// (what the error can say differs: a wrong magic is refused at its first byte, so a stream that
// arrives a byte at a time shows fewer bytes of it, and a sequence id only once 16 bytes are in).
// Built by scripts/fuzz/run.sh (make fuzz); not part of the SwiftPM package.
import RemoteProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRemoteFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let whole = decode(bytes, chunk: max(size, 1))
    // The chunk size comes from the input, so the fuzzer explores the splits too.
    let chunk = size > 0 ? Int(bytes[0] % 17) + 1 : 1
    let pieces = decode(bytes, chunk: chunk)
    precondition(whole.frames == pieces.frames, "frames differ when the stream arrives in pieces of \(chunk)")
    precondition(whole.error?.closeReason == pieces.error?.closeReason, "errors differ when the stream arrives in pieces of \(chunk)")
    return 0
}

private func decode(_ bytes: UnsafeBufferPointer<UInt8>, chunk: Int) -> (frames: [RemoteFrameDecoder.Decoded], error: RemoteProtocolError?) {
    var decoder = RemoteFrameDecoder()
    var frames: [RemoteFrameDecoder.Decoded] = []
    var offset = 0
    do throws(RemoteProtocolError) {
        while offset < bytes.count {
            decoder.append(bytes[offset..<min(offset + chunk, bytes.count)])
            offset += chunk
            while let frame = try decoder.next() {
                precondition(frame.header.type.isFromClient, "a frame of a type clients do not send")
                precondition(Int(frame.header.length) <= RemoteFrameHeader.maximumMessageLength, "a frame past the limit")
                precondition(!frame.record.contains(0), "a record with a NUL")
                precondition(frame.header.type == .heartbeat || !frame.record.isEmpty, "an empty record")
                frames.append(frame)
            }
        }
        try decoder.finish()
        return (frames, nil)
    } catch {
        return (frames, error)
    }
}
