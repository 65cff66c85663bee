import AuditSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The built-in `af_unix` plugin (`path = builtin_af_unix`): a listening `AF_UNIX` stream socket
/// whose readers get every record, in the plugin's format (`audisp/audispd-builtins.c`).
///
/// `args` as auditd reads them: a word of digits is the socket's mode (octal), a word with a `/`
/// its path, whose directory must exist; an old socket at the path is removed first. auditd serves
/// one reader at a time and blocks on it; here every reader has a queue of its own, written without
/// blocking, so a stalled reader loses its own records (counted) and nobody else's.
///
/// The record loop queues messages for the readers; the dispatcher's thread accepts and writes.
final class AfUnixServer: @unchecked Sendable {
    final class Reader: @unchecked Sendable {
        let socket: Descriptor
        let queue: PluginQueue
        /// How much of the first queued message was written; the dispatcher's thread's alone.
        var offset = 0

        init(socket: Descriptor, queue: PluginQueue) {
            self.socket = socket
            self.queue = queue
        }
    }

    let path: String
    /// Closed when the server goes; `close()` removes its name, so nobody new can connect.
    let listener: Descriptor
    private let readers = Mutex<[Reader]>([])
    private let queueMessages: Int
    private let queueBytes: Int
    /// Messages refused by readers' full queues.
    private let refusedCount = Atomic<UInt64>(0)

    init(arguments: [String], queueMessages: Int, queueBytes: Int) throws(PluginStartError) {
        var mode: mode_t?
        var path: String?
        for argument in arguments {
            if !argument.isEmpty, argument.allSatisfy({ ("0"..."9").contains($0) }) {
                guard let value = mode_t(argument, radix: 8) else { throw .badArguments("af_unix: mode \(argument) is not octal") }
                mode = value
            } else if argument.contains("/") {
                path = argument
            } else {
                throw .badArguments("af_unix: malformed path \(argument)")
            }
        }
        guard let path else { throw .badArguments("af_unix: no socket path in args") }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        var status = stat()
        guard stat(directory.isEmpty ? "/" : directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw .system(SystemCallError("stat", errno: errno == 0 ? ENOTDIR : errno, subject: directory))
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .badArguments("af_unix: socket path \(path) is too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(SystemCallError("socket", errno: errno, subject: path)) }
        let listener = Descriptor(owning: fd)
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw .system(SystemCallError("bind", errno: errno, subject: path)) }
        if let mode, chmod(path, mode) != 0 {
            let code = errno
            unlink(path)
            throw .system(SystemCallError("chmod", errno: code, subject: "\(path), \(String(mode, radix: 8))"))
        }
        guard listen(fd, 5) == 0 else {
            let code = errno
            unlink(path)
            throw .system(SystemCallError("listen", errno: code, subject: path))
        }
        self.path = path
        self.listener = listener
        self.queueMessages = queueMessages
        self.queueBytes = queueBytes
    }

    /// Takes every reader waiting to connect.
    func acceptReaders() {
        while true {
            let fd = retryingOnInterrupt { accept(listener.rawValue, nil, nil) }
            guard fd >= 0 else { return }
            let socket = Descriptor(owning: fd)
            guard (try? socket.setCloseOnExec()) != nil, (try? socket.setNonBlocking()) != nil else { continue }
            let reader = Reader(socket: socket, queue: PluginQueue(messages: queueMessages, bytes: queueBytes))
            readers.withLock { $0.append(reader) }
        }
    }

    /// Queues a message for every reader (none connected: nobody to lose it).
    func append(_ bytes: UnsafeRawBufferPointer, framedLength: Int) {
        readers.withLock { readers in
            for reader in readers where !reader.queue.append(bytes, framedLength: framedLength) {
                refusedCount.add(1, ordering: .relaxed)
            }
        }
    }

    /// The readers now connected, for the dispatcher's poll.
    var connected: [Reader] { readers.withLock { $0 } }

    /// Writes to every reader what it takes; a reader gone is forgotten (and closed with it).
    func writeReaders() {
        let gone = connected.filter { !FramedWriter.drain($0.queue, to: $0.socket.rawValue, offset: &$0.offset) }
        guard !gone.isEmpty else { return }
        readers.withLock { readers in readers.removeAll { reader in gone.contains { $0 === reader } } }
    }

    var refused: UInt64 { refusedCount.load(ordering: .relaxed) }
    var queued: Int { connected.reduce(0) { $0 + $1.queue.counts.queued } }

    private let isClosed = Atomic<Bool>(false)

    /// Drops every reader, closes the socket and removes it from the file system (a reload that
    /// stops the plugin, the daemon's stop).
    func close() {
        readers.withLock { $0.removeAll() }
        guard !isClosed.exchange(true, ordering: .relaxed) else { return }
        unlink(path)
    }

    deinit { close() }
}
