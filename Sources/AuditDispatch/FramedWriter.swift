import AuditSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes queued messages to a plugin's socket (its program's standard input, or a reader of the
/// built-in `af_unix` socket) without ever blocking: what the socket does not take now waits in the
/// queue, and the dispatcher's poll says when to go on.
enum FramedWriter {
    enum Outcome { case wroteAll, wrotePart, full, gone }

    /// Writes what `socket` takes of `message`, from byte `offset` on; `written` is how far it got.
    /// Writes what it can of `message`, from `offset` on; `written` is how far it got.
    static func write(_ message: PluginQueue.Message, to socket: Int32, from offset: Int, written: inout Int) -> Outcome {
        let sent = withUnsafeTemporaryAllocation(of: iovec.self, capacity: 3) { vectors -> Int in
            var count = 0
            var skip = offset
            for piece in [message.first, message.second] where piece.count > 0 {
                if skip >= piece.count { skip -= piece.count; continue }
                vectors[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress! + skip), iov_len: piece.count - skip)
                count += 1
                skip = 0
            }
            let padding = message.framedLength - max(offset, message.storedLength)
            if padding > 0 {
                vectors[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: Self.zeros.baseAddress!), iov_len: padding)
                count += 1
            }
            var header = msghdr()
            header.msg_iov = vectors.baseAddress
            header.msg_iovlen = count
            return retryingOnInterrupt { sendmsg(socket, &header, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        }
        if sent < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .full : .gone }
        written = offset + sent
        return written >= message.framedLength ? .wroteAll : .wrotePart
    }

    /// auditd's fixed binary size is mostly padding: one page of zeros serves every write.
    nonisolated(unsafe) static let zeros = UnsafeRawBufferPointer(
        UnsafeMutableRawBufferPointer.allocate(byteCount: PluginMessageBuilder.dataLength, alignment: 8)
            .initializeMemory(as: UInt8.self, repeating: 0))

    /// Writes queued messages until the queue is empty or the socket full; `offset` is how much of
    /// the first message earlier calls wrote. Returns false when the reader is gone.
    static func drain(_ queue: PluginQueue, to socket: Int32, offset: inout Int) -> Bool {
        while let message = queue.first() {
            var written = offset
            switch write(message, to: socket, from: offset, written: &written) {
            case .wroteAll:
                queue.removeFirst()
                offset = 0
            case .wrotePart:
                offset = written
                return true
            case .full:
                return true
            case .gone:
                return false
            }
        }
        return true
    }
}
