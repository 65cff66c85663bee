import AuditNetlink
import ReplaySupport
#if canImport(Glibc)
import Glibc
#endif

/// Plays the kernel on the far end of a socket pair, as fast as it can: answers the daemon's
/// `AUDIT_GET` and `AUDIT_SET`, then sends the whole corpus with `sendmmsg`, 64 datagrams a call,
/// and shuts the pair down, which the daemon reads as the kernel going away: it stops, writes
/// everything and returns. Nothing is allocated while the corpus is sent.
final class ReplayKernel: @unchecked Sendable {
    let socket: AuditSocket
    let corpus: Corpus
    /// Set by the feeding thread; read after it is joined.
    private(set) var startedSending: Int64 = 0
    private(set) var finishedSending: Int64 = 0
    private(set) var allocationsAtStart: UInt64?
    /// The sending thread's CPU, user and system, taken as it ends.
    private(set) var times = ProcessTimes()
    private(set) var failure: String?

    init(socket: AuditSocket, corpus: Corpus) {
        self.socket = socket
        self.corpus = corpus
    }

    func run() {
        do {
            try answerUntilRegistered()
            allocationsAtStart = AllocationCounter.current()
            startedSending = Clock.nanoseconds(CLOCK_MONOTONIC)
            try sendCorpus()
            finishedSending = Clock.nanoseconds(CLOCK_MONOTONIC)
        } catch {
            failure = error.message
        }
        _ = shutdown(socket.descriptor, Int32(SHUT_RDWR))
        times = ProcessTimes.now(ProcessTimes.callingThread)
    }

    struct Failure: Error {
        let message: String
    }

    private func answerUntilRegistered() throws(Failure) {
        var request = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = request.withUnsafeMutableBytes { recv(socket.descriptor, $0.baseAddress, $0.count, 0) }
            guard count >= 16 else { throw Failure(message: "the daemon sent \(count) bytes instead of a request") }
            let type = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt16.self) }
            let sequence = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }
            switch type {
            case 1000:  // AUDIT_GET: enabled, nobody registered, backlog_limit 8192
                var status = [UInt32](repeating: 0, count: 11)
                status[1] = 1
                status[2] = 1
                status[5] = 8192
                try send(type: 1000, sequence: sequence, payload: status.withUnsafeBytes { Array($0) })
            case 1001:  // AUDIT_SET: ACK; a pid in the mask means the daemon is registered
                let mask = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) }
                let pid = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 28, as: UInt32.self) }
                var ack = [UInt8](repeating: 0, count: 4)  // error 0
                ack += request[0..<16]
                try send(type: 2, sequence: sequence, payload: ack)
                if mask & 0x4 != 0, pid != 0 {
                    // As the kernel: the registration's CONFIG_CHANGE record comes first.
                    let marker = "audit(1700000000.000:48213): op=set audit_pid=\(pid) old=0 auid=4294967295 ses=4294967295 res=1"
                    try send(type: 1305, sequence: 0, payload: Array(marker.utf8), recordFraming: true)
                    return
                }
            default:
                throw Failure(message: "unexpected request type \(type)")
            }
        }
    }

    /// Sends one message; `recordFraming` sets `nlmsg_len` to the payload length, as the kernel
    /// frames records for the registered daemon.
    private func send(type: UInt16, sequence: UInt32, payload: [UInt8], recordFraming: Bool = false) throws(Failure) {
        var message: [UInt8] = []
        withUnsafeBytes(of: UInt32(recordFraming ? payload.count : 16 + payload.count)) { message += $0 }
        withUnsafeBytes(of: type) { message += $0 }
        withUnsafeBytes(of: UInt16(0)) { message += $0 }
        withUnsafeBytes(of: sequence) { message += $0 }
        withUnsafeBytes(of: UInt32(0)) { message += $0 }
        message += payload
        let sent = message.withUnsafeBytes { Glibc.send(socket.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == message.count else { throw Failure(message: "send failed: errno \(errno)") }
    }

    private func sendCorpus() throws(Failure) {
        var next = 0
        let total = corpus.records
        try corpus.offsets.withUnsafeBufferPointer { offsets throws(Failure) in
            try corpus.lengths.withUnsafeBufferPointer { lengths throws(Failure) in
                while next < total {
                    let sent = ReplaySupport_send_batch(
                        socket.descriptor, corpus.base, offsets.baseAddress! + next, lengths.baseAddress! + next,
                        UInt32(min(64, total - next)))
                    if sent < 0 {
                        if errno == EINTR { continue }
                        throw Failure(message: "sendmmsg failed: errno \(errno)")
                    }
                    next += Int(sent)
                }
            }
        }
    }
}

enum Clock {
    static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

/// User and system CPU time in nanoseconds, of the process or of the calling thread.
struct ProcessTimes {
    var user: Int64 = 0
    var system: Int64 = 0
    var total: Int64 { user + system }

    /// `RUSAGE_SELF` and `RUSAGE_THREAD` (Glibc imports the latter only with _GNU_SOURCE).
    static let wholeProcess: Int32 = 0
    static let callingThread: Int32 = 1

    static func now(_ who: Int32 = wholeProcess) -> ProcessTimes {
        var usage = rusage()
        getrusage(__rusage_who_t(who), &usage)
        func nanoseconds(_ time: timeval) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1000 }
        return ProcessTimes(user: nanoseconds(usage.ru_utime), system: nanoseconds(usage.ru_stime))
    }

    static func - (left: ProcessTimes, right: ProcessTimes) -> ProcessTimes {
        ProcessTimes(user: left.user - right.user, system: left.system - right.system)
    }
}

/// The count kept by Benchmarks/malloc-count.c when it is preloaded.
enum AllocationCounter {
    private typealias Reader = @convention(c) () -> UInt64
    private static let reader: Reader? = {
        guard let symbol = dlsym(nil, "malloc_count_allocations") else { return nil }
        return unsafeBitCast(symbol, to: Reader.self)
    }()

    static func current() -> UInt64? { reader?() }
}

/// Starts `body` on a new thread; `join` waits for it.
final class FeedThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            let me = Unmanaged<FeedThread>.fromOpaque(argument!).takeRetainedValue()
            me.body()
            return nil
        }, box)
        precondition(created == 0, "pthread_create failed")
    }

    func join() { pthread_join(thread, nil) }
}
