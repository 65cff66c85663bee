import AuditEvents
#if canImport(Glibc)
import Glibc
#endif

/// Whole records' interpreted text, keyed by the record's line without its stamp: a log repeats
/// records (the same command run by cron, a daemon's periodic calls, every PROCTITLE, CWD and EOE
/// of a busy program), and a record seen before is printed with two copies and the stamp's time
/// instead of a walk over its fields.
///
/// What a record prints depends on its bytes, the event's stamp (only the time between `(` and
/// `)`, which is cut out of the key and printed fresh) and one thing outside the record: the
/// `a0`/`a1` of the last SYSCALL record printed, which a field of interpretation type A0–A3 is read
/// against (`auparse/interpret.c`: `print_a0` … `print_a3`, the only readers of `idata.a0/a1`).
/// An entry made while such a field was read keeps the `a0`/`a1` it was read with and matches
/// only when they are the same again. The machine is either the record's own `arch=` or this
/// machine's (the same for the whole run); ausearch passes no cwd.
///
/// Bounded as `InterpretationCache` is: everything is forgotten when it fills.
struct InterpretedRecordMemo {
    private var cache = InterpretationCache(capacity: 1 << 15, arenaLimit: 16 << 20)
    private let key = OutputBuffer(capacity: 1 << 12)
    private let value = OutputBuffer(capacity: 1 << 12)
    /// The key and hash of the last `print` that missed, for `remember`.
    private var pendingHash: UInt64 = 0

    /// What an entry knows besides its text; stored in front of it.
    struct Header {
        /// A SYSCALL record: printing it sets `a0`/`a1` to these.
        var setsArguments: Bool
        /// A field was read against `a0`/`a1`: the entry holds only when they are these.
        var readsArguments: Bool
        var a0: UInt64
        var a1: UInt64
        /// How many bytes of text come before the time; the rest come after it.
        var prefixLength: Int
    }

    /// Where the stamp is in `line`, as `formatMessage` finds it: from the line's start, or after
    /// the first space when the event has a node name, the first `(`, then the first `)` after it;
    /// both before the ENRICHED part. Nil when ausearch's walk would not find them the same way
    /// (no stamp, or a NUL before it, which ends the C string the walk reads).
    static func stamp(in line: UnsafeBufferPointer<UInt8>, messageEnd: Int, hasNode: Bool) -> (open: Int, close: Int)? {
        // One pass over the few bytes before the stamp, a NUL anywhere in them ending it.
        @inline(__always)
        func find(_ byte: UInt8, from start: Int) -> Int? {
            var index = start
            while index < messageEnd {
                let found = line[index]
                if found == byte { return index }
                if found == 0 { return nil }
                index += 1
            }
            return nil
        }
        var start = 0
        if hasNode {
            guard let space = find(0x20, from: 0) else { return nil }
            start = space + 1
        }
        guard let open = find(UInt8(ascii: "("), from: start), let close = find(UInt8(ascii: ")"), from: open + 1) else { return nil }
        return (open, close)
    }

    /// Prints the remembered text of `line` (its stamp at `stamp`) with `time` (the stamp's text) between its
    /// two halves, and updates the SYSCALL arguments as printing it would; returns false when there
    /// is no entry that holds under the current arguments (the caller then walks the record and
    /// calls `remember`).
    mutating func print(
        _ line: UnsafeBufferPointer<UInt8>, stamp: (open: Int, close: Int), arguments: inout (UInt64, UInt64),
        time: UnsafeRawBufferPointer, into output: OutputBuffer
    ) -> Bool {
        key.removeAll()
        key.append(UnsafeBufferPointer(rebasing: line[0...stamp.open]))
        key.append(UnsafeBufferPointer(rebasing: line[stamp.close...]))
        let keyBytes = key.bytes(from: 0)
        pendingHash = InterpretationCache.hash(keyBytes)
        let printed = cache.withValue(keyBytes, hash: pendingHash) { stored -> Bool in
            let header = stored.loadUnaligned(as: Header.self)
            var current = arguments
            if header.setsArguments { current = (header.a0, header.a1) }
            if header.readsArguments && (current.0 != header.a0 || current.1 != header.a1) { return false }
            arguments = current
            let text = stored.baseAddress! + MemoryLayout<Header>.size
            output.append(text, count: header.prefixLength)
            output.append(time.baseAddress!, count: time.count)
            output.append(text + header.prefixLength, count: stored.count - MemoryLayout<Header>.size - header.prefixLength)
            return true
        }
        return printed ?? false
    }

    /// Remembers what the walk printed for the line of the last `print` that returned false: the
    /// text before the time (`prefix`) and after it (`suffix`), which are in `output`.
    mutating func remember(_ header: Header, prefix: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer) {
        value.removeAll()
        var header = header
        header.prefixLength = prefix.count
        withUnsafeBytes(of: &header) { value.append($0.baseAddress!, count: $0.count) }
        if let base = prefix.baseAddress { value.append(base, count: prefix.count) }
        if let base = suffix.baseAddress { value.append(base, count: suffix.count) }
        cache.store(key.bytes(from: 0), hash: pendingHash, value: value.bytes(from: 0))
    }
}
