import AuditProtocol

/// Records kept while a request waits for its answer, in arrival order, to be handed on after it.
///
/// One growing byte array of `[type: UInt16][length: UInt32][payload]` entries, its capacity kept
/// between requests. It grows only on the control path (a request takes well under a millisecond
/// of the kernel's output; its timeout bounds the worst case); the record path never touches it.
struct DeferredRecords {
    private var bytes: [UInt8] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(type: AuditMessageType, payload: UnsafeRawBufferPointer) {
        withUnsafeBytes(of: type.rawValue) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(payload.count)) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload)
        count += 1
    }

    /// Calls `body` with each record, oldest first.
    func forEach(_ body: (AuditMessageType, UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let type = raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 2, as: UInt32.self))
                let start = offset + 6
                body(AuditMessageType(rawValue: type), UnsafeRawBufferPointer(rebasing: raw[start..<start + length]))
                offset = start + length
            }
        }
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        count = 0
    }
}
