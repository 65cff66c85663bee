// The fake-kernel replay benchmark (issue 5): a million kernel datagrams, sent over a socket pair
// into the real daemon loop (AuditDaemon.run: batched receive, dispatch, format, buffered write)
// and log writer, as fast as the daemon takes them.
//
// usage: swift-auditd-replay [--records N] [--format raw|enriched|both] [--mix busy|getppid] [--log-dir DIR]
//                            [--flush none|incremental|incremental_async|data|sync] [--freq N]
// --mix getppid replays what the kernel benchmark's workload makes (SYSCALL, PROCTITLE, EOE).
// --flush sets auditd.conf's flush (default none), --freq its freq (default 50); with a --log-dir on
// a real disk (the default /dev/shm never syncs) the wall rate is what each flush mode costs.
// Run with LD_PRELOAD=Benchmarks/.build/libmalloc-count.so to count allocations (make bench does).
import AuditProtocol
import AuditDaemon
import AuditLog
import AuditNetlink
import Logging
#if canImport(Glibc)
import Glibc
#endif

var recordCount = 1_000_000
var corpusMix = Corpus.Mix.busyHost
var formats: [LogFormat] = [.raw, .enriched]
var logParent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
var flush = FlushMode.none
var freq = 50
let usage = "usage: swift-auditd-replay [--records N] [--format raw|enriched|both] [--mix busy|getppid] [--log-dir DIR] "
    + "[--flush \(FlushMode.allCases.map(\.rawValue).joined(separator: "|"))] [--freq N]"
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--records": recordCount = Int(arguments.next() ?? "") ?? recordCount
    case "--format":
        switch arguments.next() {
        case "raw": formats = [.raw]
        case "enriched": formats = [.enriched]
        default: formats = [.raw, .enriched]
        }
    case "--log-dir": logParent = arguments.next() ?? logParent
    case "--mix": corpusMix = arguments.next() == "getppid" ? .getppid : .busyHost
    case "--flush":
        guard let mode = FlushMode(rawValue: arguments.next() ?? "") else { say(usage); exit(2) }
        flush = mode
    case "--freq": freq = Int(arguments.next() ?? "") ?? freq
    default:
        say(usage)
        exit(2)
    }
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .critical  // the run's own numbers are printed below
    return handler
}

let made = Clock.nanoseconds(CLOCK_MONOTONIC)
let corpus = Corpus(records: recordCount, mix: corpusMix)
let madeSeconds = Double(Clock.nanoseconds(CLOCK_MONOTONIC) - made) / 1e9
let mix = corpus.typeCounts().map { type, count in
    "\(MessageTypeNames.name(of: AuditMessageType(type))) \(count * 1000 / corpus.records / 10).\(count * 1000 / corpus.records % 10)%"
}
say("replay benchmark (\(corpusMix)): \(corpus.records) datagrams, \(corpus.byteCount / corpus.records) bytes each on average "
      + "(made in \(String(format1: madeSeconds)) s); mix: \(mix.joined(separator: ", "))")
if AllocationCounter.current() == nil {
    say("  allocations: not counted (run with LD_PRELOAD=Benchmarks/.build/libmalloc-count.so)")
}

var failed = false
for format in formats {
    var template = Array("\(logParent)/swift-auditd-replay.XXXXXX".utf8CString)
    guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
        say("cannot make a directory in \(logParent)")
        exit(1)
    }
    let logFile = directory + "/audit.log"
    defer {
        unlink(logFile)
        rmdir(directory)
    }

    let (daemonEnd, kernelEnd) = try AuditSocket.pair()
    var bigBuffer: Int32 = 64 * 1024 * 1024
    setsockopt(kernelEnd.descriptor, SOL_SOCKET, SO_SNDBUFFORCE, &bigBuffer, socklen_t(MemoryLayout<Int32>.size))
    let kernel = ReplayKernel(socket: kernelEnd, corpus: corpus)
    var options = DaemonOptions()
    options.startupState = .nochange
    var configuration = AuditdConfiguration(logFile: logFile, logFormat: format)
    configuration.flush = flush
    configuration.freq = flush.isIncremental ? freq : 0
    let daemon = AuditDaemon(configuration: configuration, options: options,
                             socket: daemonEnd, control: try DaemonControl(), logger: Logger(label: "swift-auditd"),
                             processID: 4242, kernelCommandLine: nil)

    // The daemon's CPU is the whole process's (every thread the daemon runs: the record loop, the
    // signal watcher, a sync thread) less the fake kernel's sending thread, which measures its own.
    let processBefore = ProcessTimes.now()
    let feeder = FeedThread { kernel.run() }
    let summary: AuditDaemon.Summary
    do {
        summary = try daemon.run()
    } catch {
        say("  \(format): the daemon failed: \(error)")
        failed = true
        continue
    }
    let ended = Clock.nanoseconds(CLOCK_MONOTONIC)
    let allocationsAtEnd = AllocationCounter.current()
    feeder.join()
    let processTimes = ProcessTimes.now() - processBefore
    let daemonTimes = processTimes - kernel.times
    let cpu = daemonTimes.total
    if let failure = kernel.failure {
        say("  \(format): the fake kernel failed: \(failure)")
        failed = true
        continue
    }

    let seconds = Double(ended - kernel.startedSending) / 1e9
    // The kernel's records auditd logs, the registration's CONFIG_CHANGE, and the daemon's own
    // DAEMON_START/DAEMON_END.
    let expectedLines = corpus.records - corpus.notLogged + 1 + Int(summary.daemonRecordsWritten)
    let (lines, enriched) = countLines(logFile)
    var allocations = "not counted"
    if let start = kernel.allocationsAtStart, let end = allocationsAtEnd {
        allocations = String(format2: Double(end - start) / Double(corpus.records)) + " (\(end - start) in all)"
    }
    let perRecord = Double(cpu) / Double(corpus.records)
    // The rate is records per second of the daemon's CPU (user + system, all its threads): what one
    // core does when the daemon has it. The wall rate also counts the fake kernel's sender, which
    // needs a core of its own beside the daemon's, and whoever else shares the machine's cores.
    say("  \(format.rawValue.uppercased()) asked, \(enriched ? "ENRICHED" : "RAW") on disk, "
          + "flush \(flush.rawValue)\(flush.isIncremental ? " (freq \(freq))" : "") in \(logParent): "
          + "\(Int(1e9 / perRecord)) records per daemon CPU second "
          + "(CPU \(String(format2: Double(cpu) / 1e9)) s = \(Int(perRecord)) ns/record: "
          + "user \(Int(Double(daemonTimes.user) / Double(corpus.records))) ns, "
          + "system \(Int(Double(daemonTimes.system) / Double(corpus.records))) ns), "
          + "\(Int(Double(corpus.records) / seconds)) records/s (wall), "
          + "allocations/record \(allocations), lines \(lines)/\(expectedLines), "
          + "written \(summary.recordsWritten), dropped \(summary.recordsDropped), malformed \(summary.receive.malformed); "
          + "fake kernel CPU \(String(format2: Double(kernel.times.total) / 1e9)) s")
    if lines != expectedLines { failed = true }
}
exit(failed ? 1 : 0)

/// Lines in the file, and whether the first SYSCALL-ish line holds ENRICHED's 0x1D separator.
func countLines(_ path: String) -> (Int, Bool) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return (0, false) }
    defer { close(fd) }
    let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { chunk.deallocate() }
    var lines = 0
    var separator = false
    while true {
        let count = read(fd, chunk, 1 << 20)
        guard count > 0 else { break }
        let bytes = UnsafeRawBufferPointer(start: chunk, count: count)
        if !separator, memchr(chunk, 0x1D, count) != nil { separator = true }
        for byte in bytes where byte == 0x0A { lines += 1 }
    }
    return (lines, separator)
}

extension String {
    init(format1 value: Double) { self = Self.fixed(value, digits: 1) }
    init(format2 value: Double) { self = Self.fixed(value, digits: 2) }
    private static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale), fraction = abs(scaled % Int(scale))
        var fractionText = String(fraction)
        while fractionText.count < digits { fractionText = "0" + fractionText }
        return "\(whole).\(fractionText)"
    }
}

/// Prints a line at once, also when stdout is a pipe.
func say(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}
