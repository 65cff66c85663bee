import AuditSystem
import AuditProtocol
import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// Memory for receiving many datagrams with one system call, allocated once and reused.
///
/// Each slot holds one datagram. auditd's own limit for a record is 8970 bytes
/// (`MAX_AUDIT_MESSAGE_LENGTH`); a slot has room for more, and a datagram longer than its slot is
/// kept as far as it fits and reported as truncated.
public final class ReceiveBatch {
    public static let defaultSlotSize = 16 * 1024
    public static let defaultSlotCount = 64

    public let slotSize: Int
    public let slotCount: Int
    private let storage: UnsafeMutableRawBufferPointer
    let slots: UnsafeMutablePointer<CAudit_Datagram>
    /// How many slots the last receive filled.
    public internal(set) var count = 0

    public init(slotCount: Int = defaultSlotCount, slotSize: Int = defaultSlotSize) {
        precondition(slotCount > 0 && slotCount <= 256 && slotSize >= NetlinkHeader.size)
        self.slotCount = slotCount
        self.slotSize = slotSize
        storage = .allocate(byteCount: slotCount * slotSize, alignment: 16)
        slots = .allocate(capacity: slotCount)
        for i in 0..<slotCount {
            slots[i] = CAudit_Datagram(
                base: storage.baseAddress! + i * slotSize, capacity: UInt32(slotSize),
                length: 0, sender: 0, has_netlink_sender: 0, truncated: 0)
        }
    }

    deinit {
        storage.deallocate()
        slots.deallocate()
    }

    /// The bytes of the datagram in slot `index`.
    public func bytes(at index: Int) -> UnsafeRawBufferPointer {
        let slot = slots[index]
        return UnsafeRawBufferPointer(start: slot.base, count: Int(slot.length))
    }

    public func hasNetlinkSender(at index: Int) -> Bool { slots[index].has_netlink_sender != 0 }
    public func sender(at index: Int) -> UInt32 { slots[index].sender }
    public func isTruncated(at index: Int) -> Bool { slots[index].truncated != 0 }
}

extension AuditSocket {
    /// What one non-blocking receive produced.
    public enum ReceiveResult: Sendable, Equatable {
        /// `count` datagrams are in the batch.
        case received(Int)
        /// Nothing is waiting.
        case empty
        /// The socket's receive queue overflowed since the last receive (`ENOBUFS`). On the
        /// daemon's unicast socket the kernel keeps what it could not deliver and sends it again;
        /// on the multicast group those records are gone.
        case overrun
        /// The peer closed its end (a pair only).
        case closed
    }

    /// Receives as many waiting datagrams as the batch holds, without blocking.
    public func receive(into batch: ReceiveBatch) throws(SystemCallError) -> ReceiveResult {
        batch.count = 0
        let received = retryingOnInterrupt {
            CAudit_receive_batch(descriptor, batch.slots, UInt32(batch.slotCount), Int32(MSG_DONTWAIT))
        }
        if received > 0 {
            var count = Int(received)
            // A pair's peer that shut down reads as empty datagrams: the stream ends at the first.
            if kind == .pair, let end = (0..<count).first(where: { batch.slots[$0].length == 0 }) { count = end }
            batch.count = count
            return count > 0 ? .received(count) : .closed
        }
        if received == 0 { return kind == .pair ? .closed : .empty }
        switch errno {
        case EAGAIN: return .empty
        case ENOBUFS: return .overrun
        default: throw SystemCallError("recvmmsg", errno: errno, subject: "NETLINK_AUDIT")
        }
    }
}
