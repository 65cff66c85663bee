/// An incremental decoder for callers that receive a stream in pieces and hold no buffer of their
/// own (tests, the fuzz target, a plain-socket reader): append what arrived, take frames out.
/// The listener does the same on swift-nio's buffer with `RemoteFrame.parse` directly.
///
/// After an error the decoder stays failed: the stream has no way to find the next frame.
public struct RemoteFrameDecoder: Sendable {
    /// A decoded frame with its own copy of the record.
    public struct Decoded: Hashable, Sendable {
        public var header: RemoteFrameHeader
        public var record: [UInt8]
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: RemoteProtocolError?
    /// Bytes taken out as whole frames so far: where in the stream the unread bytes begin.
    public private(set) var consumed = 0

    public init() {}

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame, nil until more bytes arrive, or the error that ends the stream.
    public mutating func next() throws(RemoteProtocolError) -> Decoded? {
        if let failure { throw failure }
        let start = self.start
        let result = buffer.withUnsafeBytes { all in
            Result { () throws(RemoteProtocolError) in try RemoteFrame.parse(UnsafeRawBufferPointer(rebasing: all[start...])) }
        }
        let parsed: RemoteFrame.Parsed
        switch result {
        case let .success(value): parsed = value
        case let .failure(error):
            failure = error
            throw error
        }
        guard case let .frame(frame) = parsed else { return nil }
        let base = start
        let decoded = Decoded(header: frame.header, record: Array(buffer[(base + frame.record.lowerBound)..<(base + frame.record.upperBound)]))
        self.start += frame.size
        consumed += frame.size
        if self.start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            self.start = 0
        }
        return decoded
    }

    /// Called when the stream ends: throws `truncatedFrame` when a frame was begun and not finished.
    public mutating func finish() throws(RemoteProtocolError) {
        if let failure { throw failure }
        let start = self.start
        let result = buffer.withUnsafeBytes { all in
            Result { () throws(RemoteProtocolError) in try RemoteFrame.checkEnd(remaining: UnsafeRawBufferPointer(rebasing: all[start...])) }
        }
        if case let .failure(error) = result {
            failure = error
            throw error
        }
    }
}
