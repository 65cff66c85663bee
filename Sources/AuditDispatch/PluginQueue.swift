import Synchronization

/// One plugin's bounded queue: the bytes of the messages the record loop handed it, in order,
/// until the dispatcher's thread has written them to the plugin.
///
/// Bounded twice, in messages (`q_depth`, as auditd) and in bytes (a record is at most 8970 bytes,
/// but a queue of typical ones needs far less than `q_depth` times that), and allocated once: the
/// record loop copies a message in under a lock and never waits for room. A message that does not
/// fit is refused and counted; what to do then is the overflow action's business.
///
/// Each message is stored as `[stored length: UInt32][framed length: UInt32][bytes]`: the framed
/// length can be longer than what is stored (binary messages are padded with zeros to auditd's
/// fixed size when written, not stored padded).
public final class PluginQueue: @unchecked Sendable {
    public let capacityBytes: Int
    public let capacityMessages: Int
    // Written only by the producer in free space, read only by the consumer in used space; the
    // positions that say which is which change under `state`'s lock.
    private let storage: UnsafeMutableRawPointer
    private let state = Mutex(State())

    struct State {
        var head = 0  // where the oldest message starts
        var used = 0  // bytes in use from head
        var messages = 0
        var accepted: UInt64 = 0
        var refused: UInt64 = 0
        var written: UInt64 = 0
    }

    static let itemHeader = 8

    public init(messages: Int, bytes: Int) {
        capacityMessages = max(1, messages)
        capacityBytes = max(bytes, 16 * 1024)
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacityBytes, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// Copies `bytes` in as one message, to be written as `framedLength` bytes (zeros after the
    /// stored ones). False, counted as refused, when the queue has no room.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer, framedLength: Int? = nil) -> Bool {
        let needed = Self.itemHeader + bytes.count
        return state.withLock { state in
            guard state.messages < capacityMessages, state.used + needed <= capacityBytes else {
                state.refused += 1
                return false
            }
            var position = (state.head + state.used) % capacityBytes
            var header = (UInt32(bytes.count), UInt32(framedLength ?? bytes.count))
            withUnsafeBytes(of: &header) { position = copyIn($0, at: position) }
            _ = copyIn(bytes, at: position)
            state.used += needed
            state.messages += 1
            state.accepted += 1
            return true
        }
    }

    private func copyIn(_ bytes: UnsafeRawBufferPointer, at position: Int) -> Int {
        let first = min(bytes.count, capacityBytes - position)
        if first > 0 { (storage + position).copyMemory(from: bytes.baseAddress!, byteCount: first) }
        if first < bytes.count { storage.copyMemory(from: bytes.baseAddress! + first, byteCount: bytes.count - first) }
        return (position + bytes.count) % capacityBytes
    }

    /// The oldest message, as up to two stored segments and the framed length; nil when empty.
    /// The segments stay valid until `removeFirst()`: the producer never writes into used space.
    public func first() -> Message? {
        state.withLock { state in state.messages > 0 ? message(at: state.head) : nil }
    }

    /// Calls `body` with the oldest messages, oldest first, at most `limit` of them. Their bytes
    /// stay valid until they are removed: the producer never writes into used space.
    public func forEachQueued(upTo limit: Int, _ body: (Message) -> Void) {
        let (head, messages) = state.withLock { ($0.head, min($0.messages, limit)) }
        var position = head
        for _ in 0..<messages {
            let message = message(at: position)
            body(message)
            position = (position + Self.itemHeader + message.storedLength) % capacityBytes
        }
    }

    /// The message whose header starts at `position` in the ring.
    private func message(at position: Int) -> Message {
        var header = (UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &header) { raw in
            for index in 0..<Self.itemHeader {
                raw[index] = storage.load(fromByteOffset: (position + index) % capacityBytes, as: UInt8.self)
            }
        }
        let start = (position + Self.itemHeader) % capacityBytes
        let stored = Int(header.0)
        let firstCount = min(stored, capacityBytes - start)
        return Message(first: UnsafeRawBufferPointer(start: storage + start, count: firstCount),
                       second: UnsafeRawBufferPointer(start: storage, count: stored - firstCount),
                       framedLength: Int(header.1))
    }

    /// Drops the oldest message, once it has been written whole.
    public func removeFirst() { removeFirst(1) }

    /// Drops the `count` oldest messages, once they have been written whole.
    public func removeFirst(_ count: Int) {
        guard count > 0 else { return }
        state.withLock { state in
            for _ in 0..<min(count, state.messages) {
                let size = Self.itemHeader + message(at: state.head).storedLength
                state.head = (state.head + size) % capacityBytes
                state.used -= size
                state.messages -= 1
                state.written += 1
            }
            if state.messages == 0 { state.head = 0 }
        }
    }

    /// Drops everything queued (a plugin stopped for good); returns how many messages went.
    @discardableResult
    public func removeAll() -> Int {
        state.withLock { state in
            let dropped = state.messages
            state.head = 0
            state.used = 0
            state.messages = 0
            return dropped
        }
    }

    public var counts: Counts {
        state.withLock { Counts(queued: $0.messages, queuedBytes: $0.used, accepted: $0.accepted, refused: $0.refused, written: $0.written) }
    }

    public var isEmpty: Bool { state.withLock { $0.messages == 0 } }

    public struct Counts: Equatable, Sendable {
        public var queued: Int
        public var queuedBytes: Int
        public var accepted: UInt64
        public var refused: UInt64
        public var written: UInt64
    }

    /// A stored message: its bytes in at most two pieces (the ring wraps), and the length it is
    /// written as.
    public struct Message {
        public let first: UnsafeRawBufferPointer
        public let second: UnsafeRawBufferPointer
        public let framedLength: Int
        public var storedLength: Int { first.count + second.count }
    }
}
