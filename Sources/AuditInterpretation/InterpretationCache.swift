import AuditEvents
#if canImport(Glibc)
import Glibc
#endif

/// Byte strings to byte strings, for interpretations already made: most fields of a log repeat
/// (`uid=0`, `arch=c000003e`, `syscall=59`, `mode=0100755`), and libauparse recomputes each one.
///
/// Open addressing on a power-of-two table, keys and values kept in one arena. Bounded: when the
/// table is three-quarters full or the arena passes `arenaLimit`, everything is forgotten at once.
struct InterpretationCache {
    /// 24 bytes: the table is probed at random, once per field, and a smaller slot is a smaller
    /// table to miss the cache in. Offsets fit 32 bits because the arena is bounded.
    private struct Slot {
        var hash: UInt64 = 0
        private var start: (key: Int32, value: Int32) = (0, 0)
        private var length: (key: Int32, value: Int32) = (-1, 0)
        var keyStart: Int { Int(start.key) }
        var keyLength: Int { Int(length.key) }
        var valueStart: Int { Int(start.value) }
        var valueLength: Int { Int(length.value) }

        init() {}

        init(hash: UInt64, keyStart: Int, keyLength: Int, valueStart: Int, valueLength: Int) {
            self.hash = hash
            start = (Int32(keyStart), Int32(valueStart))
            length = (Int32(keyLength), Int32(valueLength))
        }
    }
    private var slots: [Slot]
    private var mask: Int
    private var used = 0
    private var arena: [UInt8] = []
    private let arenaLimit: Int

    init(capacity: Int = 1 << 16, arenaLimit: Int = 16 << 20) {
        var size = 16
        while size < capacity { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
        precondition(arenaLimit <= 1 << 30, "offsets into the arena are 32-bit")
        self.arenaLimit = arenaLimit
        arena.reserveCapacity(1 << 20)
    }

    /// Keys are up to a whole record (hundreds of bytes): four independent lanes of 8 bytes each
    /// turn, so that the multiplications overlap instead of waiting for each other.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        var index = 0
        if key.count >= 32 {
            var lanes: (UInt64, UInt64, UInt64, UInt64) = (hash, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x27D4_EB2F_1656_67C5)
            while index + 32 <= key.count {
                lanes.0 = (lanes.0 ^ key.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                lanes.1 = (lanes.1 ^ key.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                lanes.2 = (lanes.2 ^ key.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                lanes.3 = (lanes.3 ^ key.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                lanes.0 ^= lanes.0 >> 32
                lanes.1 ^= lanes.1 >> 32
                lanes.2 ^= lanes.2 >> 32
                lanes.3 ^= lanes.3 >> 32
                index += 32
            }
            hash = lanes.0 ^ (lanes.1 &* 0x9E37_79B9_7F4A_7C15) ^ (lanes.2 &* 0xC4CE_B9FE_1A85_EC53) ^ (lanes.3 &* 0xFF51_AFD7_ED55_8CCD)
        }
        while index + 8 <= key.count {
            let word = key.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            index += 8
        }
        var last: UInt64 = 0
        var shift: UInt64 = 0
        while index < key.count {
            last |= UInt64(key[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ last) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 29)
    }

    /// Appends the value stored for `key` to `output` and returns true, or returns false.
    ///
    /// Mutating though it changes nothing, here and in `withValue`: called on a formatter's stored
    /// cache, a non-mutating method is handed a copy, and its arrays retained and released each call.
    @inline(__always)
    mutating func append(_ key: UnsafeRawBufferPointer, hash: UInt64, to output: OutputBuffer) -> Bool {
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.keyLength < 0 { return false }
            if slot.hash == hash && slot.keyLength == key.count {
                let same = arena.withUnsafeBytes { memcmp($0.baseAddress! + slot.keyStart, key.baseAddress!, key.count) == 0 }
                if same {
                    arena.withUnsafeBytes { output.append($0.baseAddress! + slot.valueStart, count: slot.valueLength) }
                    return true
                }
            }
            index = (index + 1) & mask
        }
    }

    /// Calls `body` with the value stored for `key` and returns what it returns, or nil when there
    /// is none. The bytes are the cache's own: valid only inside `body`.
    @inline(__always)
    mutating func withValue<Result>(_ key: UnsafeRawBufferPointer, hash: UInt64, _ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.keyLength < 0 { return nil }
            if slot.hash == hash && slot.keyLength == key.count {
                let found: Result? = arena.withUnsafeBytes { arena in
                    guard memcmp(arena.baseAddress! + slot.keyStart, key.baseAddress!, key.count) == 0 else { return nil }
                    return body(UnsafeRawBufferPointer(rebasing: arena[slot.valueStart..<(slot.valueStart + slot.valueLength)]))
                }
                if let found { return found }
            }
            index = (index + 1) & mask
        }
    }

    mutating func store(_ key: UnsafeRawBufferPointer, hash: UInt64, value: UnsafeRawBufferPointer) {
        if used * 4 >= slots.count * 3 || arena.count + key.count + value.count > arenaLimit {
            for index in slots.indices { slots[index] = Slot() }
            arena.removeAll(keepingCapacity: true)
            used = 0
        }
        // A key stored before is replaced (the record memo stores again a key whose entry did not
        // hold); its old bytes stay in the arena until it is cleared.
        var index = Int(truncatingIfNeeded: hash) & mask
        var replacing = false
        while slots[index].keyLength >= 0 {
            let slot = slots[index]
            if slot.hash == hash && slot.keyLength == key.count
                && arena.withUnsafeBytes({ memcmp($0.baseAddress! + slot.keyStart, key.baseAddress!, key.count) == 0 }) {
                replacing = true
                break
            }
            index = (index + 1) & mask
        }
        let keyStart = arena.count
        arena.append(contentsOf: key)
        let valueStart = arena.count
        arena.append(contentsOf: value)
        slots[index] = Slot(hash: hash, keyStart: keyStart, keyLength: key.count, valueStart: valueStart, valueLength: value.count)
        if !replacing { used += 1 }
    }
}

/// `auparse_interp_adjust_type` per record type and field name, in a direct-mapped table keyed by
/// the name's first 16 bytes (longer names are asked every time).
struct FieldTypeCache {
    private struct Entry {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var recordType: Int32 = -1
        var length: Int32 = -1
        var fieldType: Int32 = 0
    }
    private var entries = [Entry](repeating: Entry(), count: 1024)

    @inline(__always)
    mutating func type(_ recordType: Int32, _ name: UnsafeRawBufferPointer, compute: () -> Int32) -> Int32 {
        let length = name.count
        guard length <= 16 else { return compute() }
        // Loaded, not copied into a pair of words: a copy of a few bytes then read back as a word
        // stalls on the store.
        @inline(__always)
        func word(_ offset: Int, _ count: Int) -> UInt64 {
            if count >= 8 { return UInt64(littleEndian: name.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
            var word: UInt64 = 0
            var index = 0
            while index < count {
                word |= UInt64(name[offset + index]) << (8 * UInt64(index))
                index += 1
            }
            return word
        }
        let head = word(0, min(length, 8))
        let tail = length > 8 ? word(8, length - 8) : 0
        let mixed = (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(UInt32(bitPattern: recordType)) &* 0x1656_67B1_9E37_79F9)
        let slot = Int(truncatingIfNeeded: mixed >> 54)
        let entry = entries[slot]
        if entry.recordType == recordType && entry.length == Int32(length) && entry.head == head && entry.tail == tail {
            return entry.fieldType
        }
        let type = compute()
        entries[slot] = Entry(head: head, tail: tail, recordType: recordType, length: Int32(length), fieldType: type)
        return type
    }
}
