// swift-auditd-remote-sink: the remote listener alone, writing what it receives to a file — the
// test server of make bench-remote (Benchmarks/remote-bench.py), until the daemon runs the
// listener itself. Not a daemon: no auditd.conf, no records of its own, stopped by SIGTERM.
//
//   swift-auditd-remote-sink --log FILE [--port N] [--max-per-addr K] [--sync]
//
// Each record is written with one write(2) (and, with --sync, fdatasync(2)) before its ACK, the
// order the daemon will keep. Prints "listening on PORT" once the socket is open. With
// Benchmarks/malloc-count.c preloaded, each DAEMON_CLOSE also prints to standard error the records
// and heap allocations of the whole process since the first record ("records N allocations M").
import AuditRemote
import NIOCore
import RemoteProtocol
#if canImport(Glibc)
import Glibc
#endif

final class FileWritingSink: RemoteRecordSink, @unchecked Sendable {
    // @unchecked: used only on the listener's one event loop.
    private let fd: Int32
    private let sync: Bool
    private var line = [UInt8](repeating: 0, count: RemoteFrameHeader.maximumMessageLength + 1)

    init(fd: Int32, sync: Bool) {
        self.fd = fd
        self.sync = sync
    }

    func receive(_ record: RemoteRecord) {
        if records == 0, let count = allocationCounter { allocationsAtFirstRecord = count() }
        records += 1
        let count = record.bytes.readableBytes
        record.bytes.withUnsafeReadableBytes { bytes in
            line.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
        }
        line[count] = 0x0A
        var reply = RemoteReply.ack
        if Glibc.write(fd, line, count + 1) != count + 1 || (sync && fdatasync(fd) != 0) {
            reply = errno == ENOSPC ? .diskFull : .diskError
        }
        record.acknowledgement.complete(reply)
    }

    func write(_ record: ListenerRecord, client: RemoteClient?) {
        let text = Array((record.description + "\n").utf8)
        _ = Glibc.write(fd, text, text.count)
        if record.kind == .close, let count = allocationCounter {
            let report = Array("records \(records) allocations \(count() - allocationsAtFirstRecord)\n".utf8)
            _ = Glibc.write(2, report, report.count)
        }
    }

    private var records: UInt64 = 0
    private var allocationsAtFirstRecord: UInt64 = 0
    private let allocationCounter: (@convention(c) () -> UInt64)? = {
        guard let symbol = dlsym(nil, "malloc_count_allocations") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: (@convention(c) () -> UInt64).self)
    }()
}

func usage(_ message: String) -> Never {
    let text = Array("swift-auditd-remote-sink: \(message)\nusage: swift-auditd-remote-sink --log FILE [--port N] [--max-per-addr K] [--sync]\n".utf8)
    _ = Glibc.write(2, text, text.count)
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
var logPath: String?
var settings = RemoteListenerSettings()
settings.useLibwrap = false
settings.port = 0
var sync = false
while let argument = arguments.popFirst() {
    switch argument {
    case "--log": logPath = arguments.popFirst()
    case "--port": settings.port = arguments.popFirst().flatMap { UInt16($0) } ?? { usage("--port needs a number") }()
    case "--max-per-addr": settings.maxPerAddress = arguments.popFirst().flatMap { Int($0) } ?? { usage("--max-per-addr needs a number") }()
    case "--sync": sync = true
    default: usage("unknown argument \(argument)")
    }
}
guard let logPath else { usage("--log is required") }
let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
guard fd >= 0 else { usage("cannot open \(logPath): \(String(cString: strerror(errno)))") }
let listener = RemoteListener(configuration: RemoteListenerConfiguration(settings: settings), sink: FileWritingSink(fd: fd, sync: sync))
do {
    let addresses = try await listener.start()
    // Unbuffered: the script waits for this line on a pipe.
    let line = Array("listening on \(addresses.first?.port ?? 0)\n".utf8)
    _ = Glibc.write(1, line, line.count)
} catch {
    usage("\(error)")
}
while true { pause() }
