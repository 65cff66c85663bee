/// Frames laid out as the queue writes them, `[u32 length][u32 crc32][payload]` little-endian,
/// filled by the stdin side: each payload is encoded in place, after room for its header, so an
/// event is written into the queue's bytes once and the queue writes them with one `write`.
public struct QueueFrames: Sendable {
    static let headerSize = 8

    /// The frames, back to back.
    public private(set) var bytes: [UInt8] = []
    /// Where each frame ends in `bytes` (the first starts at 0).
    public private(set) var ends: [Int] = []

    public init() {}

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// Adds one frame whose payload `encode` appends (a payload is never empty).
    public mutating func append(_ encode: (inout [UInt8]) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.headerSize))
        encode(&bytes)
        let length = bytes.count - start - Self.headerSize
        precondition(length > 0 && length <= Int(UInt32.max), "a queue frame's payload is 1 byte to 4 GiB")
        let checksum = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + Self.headerSize)...])) }
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: start, as: UInt32.self)
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
        ends.append(bytes.count)
    }

    /// A frame around `payload`.
    public mutating func append(payload: some Collection<UInt8>) {
        append { $0.append(contentsOf: payload) }
    }

    /// Where frame `index` lies in `bytes`.
    func range(of index: Int) -> Range<Int> { (index == 0 ? 0 : ends[index - 1])..<ends[index] }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }
}
