#if canImport(Glibc)
import Glibc
#endif

/// The user (or group) names the ENRICHED format has looked up, kept as auditd 3.0.9 keeps them,
/// so that a stale name shows exactly when auditd's would.
///
/// auparse (`auparse/interpret.c: aulookup_uid`, `lru.c`) keeps 19 entries, one per `id % 19`: a
/// hit returns the kept name even if the account changed since; a different id in the slot is
/// evicted and looked up again, and a lookup that finds nothing leaves the slot empty. The caches
/// are emptied on user-management records (`flush()`). Names are cut to 63 bytes (auparse's
/// 64-byte buffer).
///
/// auparse never remembers a miss, so every record naming an unknown id asks NSS again. Here a
/// miss is remembered for `missLifetime` milliseconds (0: never, exactly as auditd), which keeps
/// a flood of records from unknown ids (containers, foreign files) off the account databases.
final class AccountNameCache {
    static let slotCount = 19
    static let nameCapacity = 63

    private enum State: UInt8 { case empty, known, missing }

    private struct Slot {
        var state = State.empty
        var id: UInt32 = 0
        var length: UInt8 = 0
        /// For `.missing`: until when the miss stands, in milliseconds of `clock`.
        var missUntil: Int64 = 0
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let names: UnsafeMutablePointer<UInt8>
    private let lookUp: (UInt32) -> [UInt8]?
    let missLifetime: Int64
    private let clock: () -> Int64
    /// How often the directory was asked, for tests and diagnostics.
    private(set) var lookups: UInt64 = 0

    init(missLifetime: Int64, clock: @escaping () -> Int64, lookUp: @escaping (UInt32) -> [UInt8]?) {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(), count: Self.slotCount)
        names = .allocate(capacity: Self.slotCount * Self.nameCapacity)
        self.missLifetime = missLifetime
        self.clock = clock
        self.lookUp = lookUp
    }

    deinit {
        slots.deallocate()
        names.deallocate()
    }

    /// The name of `id`, or nil when the directory has none. The bytes stay valid until the next
    /// call or `flush()`.
    func name(of id: UInt32) -> UnsafeRawBufferPointer? {
        let index = Int(id % UInt32(Self.slotCount))
        let slot = slots[index]
        let storage = names + index * Self.nameCapacity
        if slot.id == id {
            switch slot.state {
            case .known: return UnsafeRawBufferPointer(start: storage, count: Int(slot.length))
            case .missing where clock() < slot.missUntil: return nil
            default: break
            }
        }
        lookups += 1
        guard let found = lookUp(id) else {
            slots[index] = missLifetime > 0 ? Slot(state: .missing, id: id, missUntil: clock() + missLifetime) : Slot()
            return nil
        }
        let length = min(found.count, Self.nameCapacity)
        for offset in 0..<length { storage[offset] = found[offset] }
        slots[index] = Slot(state: .known, id: id, length: UInt8(length))
        return UnsafeRawBufferPointer(start: storage, count: length)
    }

    /// Forgets every name, as auparse's `_auparse_flush_caches`.
    func flush() {
        for index in 0..<Self.slotCount { slots[index] = Slot() }
    }
}
