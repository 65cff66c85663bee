import AuditSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes queued messages to a plugin's socket (its program's standard input, or a reader of the
/// built-in `af_unix` socket) without ever blocking: what the socket does not take now waits in the
/// queue, and the dispatcher's poll says when to go on.
///
/// Up to `batch` messages go out in one `sendmsg`, gathered where they lie in the queue: one system
/// call a message would cap what a plugin can be given well below what the record loop takes in
/// (a full-rate load is hundreds of thousands of records a second).
enum FramedWriter {
    /// Messages gathered into one `sendmsg`: each is at most three pieces (the queue's ring can
    /// split it in two, and a binary message ends in padding), well under `IOV_MAX` (1024).
    static let batch = 128

    /// Writes queued messages until the queue is empty or the socket full; `offset` is how much of
    /// the first message earlier calls wrote. Returns false when the reader is gone.
    static func drain(_ queue: PluginQueue, to socket: Int32, offset: inout Int) -> Bool {
        while true {
            var messages = 0
            var wanted = 0
            var lengths = (first: 0, rest: [Int]())
            let sent = withUnsafeTemporaryAllocation(of: iovec.self, capacity: batch * 3) { vectors -> Int in
                var count = 0
                queue.forEachQueued(upTo: batch) { message in
                    let skip = messages == 0 ? offset : 0
                    count += Self.pieces(of: message, from: skip, into: vectors, at: count)
                    wanted += message.framedLength - skip
                    if messages == 0 { lengths.first = message.framedLength - skip } else { lengths.rest.append(message.framedLength) }
                    messages += 1
                }
                guard count > 0 else { return 0 }
                var header = msghdr()
                header.msg_iov = vectors.baseAddress
                header.msg_iovlen = count
                return retryingOnInterrupt { sendmsg(socket, &header, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            }
            if messages == 0 { return true }
            if sent < 0 { return errno == EAGAIN || errno == EWOULDBLOCK }
            // Whole messages written leave the queue; the rest of a partial one is the next offset.
            var left = sent
            var whole = 0
            if left >= lengths.first {
                left -= lengths.first
                whole = 1
                for length in lengths.rest {
                    guard left >= length else { break }
                    left -= length
                    whole += 1
                }
                offset = left
            } else {
                offset += left
            }
            queue.removeFirst(whole)
            if sent < wanted { return true }  // the socket took what it could
        }
    }

    /// Adds the iovecs of `message` from byte `start` on at `vectors[index...]`; returns how many.
    private static func pieces(of message: PluginQueue.Message, from start: Int,
                               into vectors: UnsafeMutableBufferPointer<iovec>, at index: Int) -> Int {
        var count = 0
        var skip = start
        func add(_ piece: UnsafeRawBufferPointer) {
            guard piece.count > 0 else { return }
            if skip >= piece.count { skip -= piece.count; return }
            vectors[index + count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress! + skip), iov_len: piece.count - skip)
            count += 1
            skip = 0
        }
        add(message.first)
        add(message.second)
        let padding = message.framedLength - max(start, message.storedLength)
        if padding > 0 {
            vectors[index + count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: zeros.baseAddress!), iov_len: padding)
            count += 1
        }
        return count
    }

    /// auditd's fixed binary size is mostly padding: one page of zeros serves every write.
    nonisolated(unsafe) static let zeros = UnsafeRawBufferPointer(
        UnsafeMutableRawBufferPointer.allocate(byteCount: PluginMessageBuilder.dataLength, alignment: 8)
            .initializeMemory(as: UInt8.self, repeating: 0))
}
