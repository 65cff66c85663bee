import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The plugin's queue on disk, between standard input and the network: events (each an encoded
/// OTLP LogRecord, `LogRecordEncoder`; to the queue an opaque payload) are appended to segment files
/// as they are read, and leave only when the sender commits the batch it took (after a 2xx, or after
/// setting a rejected batch aside). What was taken but not committed when the process died is sent
/// again on the next start: at most one batch of duplicates.
///
/// Layout of `directory`:
/// - `segments/NNNNNNNNNNNNNNNNNNNN.lr`: frames `[u32 length][u32 crc32][payload]`, little-endian
///   (`QueueFrames`); a torn or zeroed tail after a crash fails the check and is cut off. (`.seg`
///   files are an earlier version's frames of event lines: left in place, reported, not sent.)
/// - `head`: `SEGMENT OFFSET`, the first frame not yet committed, replaced atomically.
/// - `lock`: held (flock) while a plugin uses the directory, so two cannot share one queue.
/// - `rejected/`: batches a collector refused (4xx), as text, for an administrator.
///
/// One lock guards it all; the appender (the stdin thread) and the sender (async) hold it briefly.
/// Bytes are bounded by `maxBytes`: a full queue applies its `QueueFullAction` and counts drops.
public final class DurableQueue: @unchecked Sendable {
    struct Position: Comparable, Equatable {
        var segment: UInt64
        var offset: Int
        static func < (lhs: Position, rhs: Position) -> Bool {
            (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
        }
    }

    struct Frame {
        let position: Position
        let payloadLength: Int
        var size: Int { payloadLength + DurableQueue.frameHeaderSize }
    }

    /// Events taken by the sender and not yet committed: their payloads, in queue order.
    public struct Batch: Sendable {
        public let payloads: [ArraySlice<UInt8>]
        public var count: Int { payloads.count }
    }

    static let frameHeaderSize = QueueFrames.headerSize
    /// Segments of encoded LogRecords; `.seg` ones hold an earlier version's event lines.
    static let segmentSuffix = ".lr", earlierSegmentSuffix = ".seg"

    public let directory: String
    let maxBytes: Int
    let fullAction: QueueFullAction
    let segmentSize: Int

    private let condition = NSCondition()
    private var pending = FrameDeque()
    private var inFlight: [Frame] = []
    private var usedBytes = 0
    private var closed = false
    private var tail: Position
    private var appendFD: Int32
    private var unsynced = false
    private var readFDs: [UInt64: Int32] = [:]
    private var lockFD: Int32
    private var wakeSender: (@Sendable () -> Void)?
    private var recoveryNotes: [String] = []

    /// Dropped because the queue was full (`drop_oldest`, `drop_newest`).
    public private(set) var droppedEvents = 0

    var segmentsDirectory: String { directory + "/segments" }
    var rejectedDirectory: String { directory + "/rejected" }
    var headPath: String { directory + "/head" }

    /// Opens (or makes) the queue in `directory` and recovers what a previous run left in it.
    public init(directory: String, maxBytes: Int, fullAction: QueueFullAction) throws(QueueStorageError) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.fullAction = fullAction
        segmentSize = min(4 << 20, max(64 << 10, maxBytes / 8))
        try QueueFile.makeDirectory(directory)
        try QueueFile.makeDirectory(directory + "/segments")
        try QueueFile.makeDirectory(directory + "/rejected")
        lockFD = try QueueFile.open(directory + "/lock", O_RDWR | O_CREAT)
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            let error = QueueStorageError("flock (is another swift-auditd-otlp using this queue_dir?)", directory + "/lock")
            Glibc.close(lockFD)
            throw error
        }
        tail = Position(segment: 1, offset: 0)
        appendFD = -1
        try recover()
    }

    deinit {
        if appendFD >= 0 { Glibc.close(appendFD) }
        for fd in readFDs.values { Glibc.close(fd) }
        Glibc.close(lockFD)
    }

    /// What recovery found that an administrator should hear of (cut tails, corrupt frames).
    public var notes: [String] { condition.withLock { recoveryNotes } }
    public var eventCount: Int { condition.withLock { pending.count + inFlight.count } }
    public var byteCount: Int { condition.withLock { usedBytes } }

    /// Called (outside the lock) whenever events were appended, so the sender need not poll.
    public func onAppend(_ wake: @escaping @Sendable () -> Void) { condition.withLock { wakeSender = wake } }

    // MARK: Appending (the stdin thread)

    /// Appends `frames`, written where they lie (one write when they all fit). With `block`, waits
    /// for room; returns how many were dropped.
    @discardableResult
    public func append(_ frames: QueueFrames) throws(QueueStorageError) -> Int {
        var dropped = 0
        let wake: (@Sendable () -> Void)?
        do {
            condition.lock()
            defer { condition.unlock() }
            // The frames not yet written are frames.bytes[run.lowerBound..<run.upperBound].
            var run = 0..<0
            var runFrames: [Frame] = []
            func flush() throws(QueueStorageError) {
                guard !run.isEmpty else { return }
                try write(frames.bytes[run], frames: &runFrames)
                run = run.upperBound..<run.upperBound
            }
            for index in 0..<frames.count {
                let range = frames.range(of: index)
                let size = range.count
                if usedBytes + run.count + size > maxBytes {
                    switch fullAction {
                    case .dropNewest:
                        try flush()
                        run = range.upperBound..<range.upperBound
                        dropped += 1
                        continue
                    case .dropOldest:
                        // What this call holds is older than the frame in hand: written first, it
                        // can be dropped like the rest.
                        try flush()
                        while usedBytes + size > maxBytes, let oldest = pending.popFirst() {
                            usedBytes -= oldest.size
                            dropped += 1
                        }
                        if usedBytes + size > maxBytes {
                            run = range.upperBound..<range.upperBound
                            dropped += 1
                            continue
                        }
                    case .block:
                        try flush()
                        while usedBytes + size > maxBytes, !closed, usedBytes > 0 { condition.wait() }
                        if closed {
                            run = range.upperBound..<range.upperBound
                            dropped += 1
                            continue
                        }
                    }
                }
                if tail.offset + run.count >= segmentSize, tail.offset + run.count > 0 {
                    try flush()
                    try startSegment(tail.segment + 1)
                }
                if run.isEmpty { run = range.lowerBound..<range.lowerBound }
                runFrames.append(Frame(position: Position(segment: tail.segment, offset: tail.offset + run.count),
                                       payloadLength: size - Self.frameHeaderSize))
                run = run.lowerBound..<range.upperBound
            }
            try flush()
            droppedEvents += dropped
            wake = wakeSender
        }
        wake?()
        return dropped
    }

    /// Makes what was appended durable; the stdin side calls it every `sync_interval_ms` and at exit.
    public func sync() throws(QueueStorageError) {
        condition.lock()
        defer { condition.unlock() }
        guard unsynced, appendFD >= 0 else { return }
        try QueueFile.sync(appendFD, path: segmentPath(tail.segment))
        unsynced = false
    }

    /// Wakes a `block`ed appender for good (shutdown): what it still holds is counted as dropped.
    public func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    private func write(_ bytes: ArraySlice<UInt8>, frames: inout [Frame]) throws(QueueStorageError) {
        guard !bytes.isEmpty else { return }
        if appendFD < 0 { try startSegment(tail.segment) }
        try QueueFile.writeAll(appendFD, bytes, path: segmentPath(tail.segment))
        tail.offset += bytes.count
        usedBytes += bytes.count
        unsynced = true
        for frame in frames { pending.append(frame) }
        frames.removeAll(keepingCapacity: true)
    }

    private func startSegment(_ segment: UInt64) throws(QueueStorageError) {
        if appendFD >= 0 {
            // A finished segment is made durable before the next one starts.
            try QueueFile.sync(appendFD, path: segmentPath(tail.segment))
            Glibc.close(appendFD)
            appendFD = -1
        }
        let path = segmentPath(segment)
        appendFD = try QueueFile.open(path, O_WRONLY | O_CREAT | O_APPEND)
        var status = stat()
        guard fstat(appendFD, &status) == 0 else { throw QueueStorageError("fstat", path) }
        tail = Position(segment: segment, offset: Int(status.st_size))
        try QueueFile.syncDirectory(segmentsDirectory)
    }

    // MARK: Sending (the sender task)

    /// Whether events wait that no batch has taken.
    public var hasPending: Bool { condition.withLock { !pending.isEmpty } }
    public var pendingCount: Int { condition.withLock { pending.count } }

    /// Takes the oldest pending events, up to `maxEvents` and `maxBytes` of payload (at least one),
    /// as the batch in flight. Nil when nothing is pending. Only one batch is in flight at a time.
    public func takeBatch(maxEvents: Int, maxBytes: Int) throws(QueueStorageError) -> Batch? {
        let frames: [Frame] = condition.withLock {
            precondition(inFlight.isEmpty, "the sender takes one batch at a time and commits it first")
            var taken: [Frame] = []
            var bytes = 0
            while taken.count < maxEvents, let next = pending.first, taken.isEmpty || bytes + next.payloadLength <= maxBytes {
                taken.append(pending.popFirst()!)
                bytes += next.payloadLength
            }
            inFlight = taken
            return taken
        }
        guard !frames.isEmpty else { return nil }
        // Reading outside the lock is safe: only commit() deletes segments, and the sender calls it.
        // One pread per run of frames that lie back to back in one segment (usually the whole batch);
        // the payloads are slices of what it read.
        var payloads: [ArraySlice<UInt8>] = []
        payloads.reserveCapacity(frames.count)
        var runStart = 0
        while runStart < frames.count {
            var runEnd = runStart + 1
            while runEnd < frames.count, frames[runEnd].position.segment == frames[runStart].position.segment,
                  frames[runEnd].position.offset == frames[runEnd - 1].position.offset + frames[runEnd - 1].size {
                runEnd += 1
            }
            let first = frames[runStart].position, last = frames[runEnd - 1]
            let path = segmentPath(first.segment)
            let bytes = try QueueFile.readRange(try readFD(first.segment), offset: first.offset,
                                                count: last.position.offset + last.size - first.offset, path: path)
            for frame in frames[runStart..<runEnd] {
                let payloadStart = frame.position.offset - first.offset + Self.frameHeaderSize
                payloads.append(bytes[payloadStart..<(payloadStart + frame.payloadLength)])
            }
            runStart = runEnd
        }
        return Batch(payloads: payloads)
    }

    /// The batch in flight has left (a 2xx) or was set aside: forgets it, durably.
    public func commit() throws(QueueStorageError) {
        let (head, obsolete): (Position, [UInt64]) = condition.withLock {
            for frame in inFlight { usedBytes -= frame.size }
            inFlight = []
            let head = pending.first?.position ?? tail
            let obsolete = readFDs.keys.filter { $0 < head.segment }
            condition.broadcast()
            return (head, obsolete)
        }
        try QueueFile.replace(headPath, with: Array("\(head.segment) \(head.offset)\n".utf8), directory: directory)
        try deleteSegments(before: head.segment, known: obsolete)
    }

    /// Writes the batch in flight to `rejected/` as `reason` and `text` (the caller's rendering of
    /// its events), then commits it.
    public func setAside(_ batch: Batch, reason: String, text: String) throws(QueueStorageError) -> String {
        let milliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        let first = condition.withLock { inFlight.first?.position ?? tail }
        let path = rejectedDirectory + "/\(milliseconds)-\(first.segment)-\(first.offset).txt"
        let content = "# " + reason.replacingOccurrences(of: "\n", with: " ") + "\n" + text
        try QueueFile.replace(path, with: Array(content.utf8), directory: rejectedDirectory)
        try commit()
        return path
    }

    private func deleteSegments(before segment: UInt64, known: [UInt64]) throws(QueueStorageError) {
        for id in known {
            if let fd = condition.withLock({ readFDs.removeValue(forKey: id) }) { Glibc.close(fd) }
        }
        for id in try segmentIDs() where id < segment {
            if unlink(segmentPath(id)) != 0 && errno != ENOENT { throw QueueStorageError("unlink", segmentPath(id)) }
        }
    }

    private func readFD(_ segment: UInt64) throws(QueueStorageError) -> Int32 {
        if let fd = condition.withLock({ readFDs[segment] }) { return fd }
        let fd = try QueueFile.open(segmentPath(segment), O_RDONLY)
        condition.withLock { readFDs[segment] = fd }
        return fd
    }

    // MARK: Recovery

    func segmentPath(_ segment: UInt64) -> String {
        let digits = String(segment)
        return segmentsDirectory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + Self.segmentSuffix
    }

    private func segmentIDs() throws(QueueStorageError) -> [UInt64] {
        var ids: [UInt64] = []
        try forEachSegmentName { name in
            if name.hasSuffix(Self.segmentSuffix), let id = UInt64(name.dropLast(Self.segmentSuffix.count)) { ids.append(id) }
        }
        return ids.sorted()
    }

    private func forEachSegmentName(_ body: (String) -> Void) throws(QueueStorageError) {
        guard let directory = opendir(segmentsDirectory) else { throw QueueStorageError("opendir", segmentsDirectory) }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            body(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) })
        }
    }

    private func recover() throws(QueueStorageError) {
        var head = Position(segment: 0, offset: 0)
        if access(headPath, F_OK) == 0 {
            let text = String(decoding: try QueueFile.readAll(headPath), as: UTF8.self)
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count == 2, let segment = UInt64(parts[0]), let offset = Int(parts[1]) {
                head = Position(segment: segment, offset: offset)
            } else {
                recoveryNotes.append("\(headPath): unreadable ('\(text.prefix(40))'); starting from the oldest segment")
            }
        }
        var earlier = 0, earlierLastID: UInt64 = 0
        try forEachSegmentName { name in
            guard name.hasSuffix(Self.earlierSegmentSuffix) else { return }
            earlier += 1
            earlierLastID = max(earlierLastID, UInt64(name.dropLast(Self.earlierSegmentSuffix.count)) ?? 0)
        }
        if earlier > 0 {
            recoveryNotes.append("\(segmentsDirectory): \(earlier) .seg files of an earlier version of the plugin (event lines, not LogRecords) are left there and not sent")
        }
        let ids = try segmentIDs()
        for id in ids where id < head.segment {
            if unlink(segmentPath(id)) != 0 { throw QueueStorageError("unlink", segmentPath(id)) }
        }
        let live = ids.filter { $0 >= head.segment }
        for (index, id) in live.enumerated() {
            let path = segmentPath(id)
            let bytes = try QueueFile.readAll(path)
            var offset = id == head.segment ? min(head.offset, bytes.count) : 0
            while offset < bytes.count {
                guard let frame = Self.frame(in: bytes, at: offset, segment: id) else { break }
                pending.append(frame)
                usedBytes += frame.size
                offset += frame.size
            }
            if offset < bytes.count {
                if index == live.count - 1 {
                    recoveryNotes.append("\(path): cut \(bytes.count - offset) bytes of a torn last frame at offset \(offset)")
                    guard truncate(path, off_t(offset)) == 0 else { throw QueueStorageError("truncate", path) }
                } else {
                    recoveryNotes.append("\(path): \(bytes.count - offset) bytes from offset \(offset) fail their check and are skipped")
                }
            }
        }
        if let last = live.last {
            try startSegment(last)
        } else {
            // No segment to go on with: a new one past every number the head or an earlier
            // version used, and the head moved to its start at once. (Reusing the head's number
            // would let its old offset skip the new segment's first events at the next start.)
            let fresh = max(head.segment, earlierLastID) + 1
            try startSegment(fresh)
            try QueueFile.replace(headPath, with: Array("\(fresh) 0\n".utf8), directory: directory)
        }
    }

    private static func frame(in bytes: [UInt8], at offset: Int, segment: UInt64) -> Frame? {
        guard bytes.count - offset >= frameHeaderSize else { return nil }
        func word(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        let length = Int(word(offset))
        let payloadStart = offset + frameHeaderSize
        guard length > 0, length <= bytes.count - payloadStart else { return nil }
        guard CRC32.checksum(bytes[payloadStart..<(payloadStart + length)]) == word(offset + 4) else { return nil }
        return Frame(position: Position(segment: segment, offset: offset), payloadLength: length)
    }
}

/// A FIFO of frames with O(1) removal at the front (the queue can hold tens of thousands).
struct FrameDeque {
    private var storage: [DurableQueue.Frame] = []
    private var start = 0

    var count: Int { storage.count - start }
    var isEmpty: Bool { count == 0 }
    var first: DurableQueue.Frame? { isEmpty ? nil : storage[start] }

    mutating func append(_ frame: DurableQueue.Frame) { storage.append(frame) }

    mutating func popFirst() -> DurableQueue.Frame? {
        guard !isEmpty else { return nil }
        defer {
            start += 1
            if start > 4096, start * 2 > storage.count {
                storage.removeFirst(start)
                start = 0
            }
        }
        return storage[start]
    }
}
