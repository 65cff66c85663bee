import AuditEvents
import AuditInterpretation
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// How `follow` prints an event.
public enum EventFormat: String, CaseIterable, Sendable {
    /// The event's lines as the log holds them.
    case lines
    /// As `ausearch -i` prints it.
    case interpreted
    /// One JSON object per line (`EventJSONEncoder`).
    case json
}

/// `swift-auditd follow`: the log's lines, grouped into events, filtered, printed.
///
/// `interpreted` groups and orders events as ausearch 3.0.9 does (`AusearchEventOrder`), so that
/// its output is ausearch's; `lines` and `json` hand events out as they end (`EventAssembler`).
public struct FollowSession {
    public var path: String
    public var follow: Bool
    public var format: EventFormat
    public var filter: EventFilter
    public var timeoutSeconds: Int
    public var output: Int32
    public var note: (String) -> Void

    public init(path: String, follow: Bool, format: EventFormat, filter: EventFilter, timeoutSeconds: Int,
                output: Int32 = 1, note: @escaping (String) -> Void) {
        self.path = path
        self.follow = follow
        self.format = format
        self.filter = filter
        self.timeoutSeconds = timeoutSeconds
        self.output = output
        self.note = note
    }

    /// What happened, for the caller's exit status and summary.
    public struct Outcome: Sendable {
        public var events = 0
        public var counters = AssemblyCounters()
        public var outputFailed = false
    }

    /// Runs until the files are read (not following), the output is closed, or `keepGoing` says stop.
    public func run(keepGoing: () -> Bool = { true }) -> Outcome {
        switch format {
        case .interpreted:
            return run(grouping: AusearchEventOrder(timeoutSeconds: timeoutSeconds), keepGoing: keepGoing)
        case .lines, .json:
            return run(grouping: EventAssembler(timeoutSeconds: timeoutSeconds), keepGoing: keepGoing)
        }
    }

    private func run<Grouping: EventGrouping>(grouping initial: Grouping, keepGoing: () -> Bool) -> Outcome {
        var grouping = initial
        var outcome = Outcome()
        var printer = EventPrinter(format: format)
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 20)
        let follower = LogFollower(path: path, follow: follow, note: note)
        var malformedNoted = 0
        let output = self.output
        let filter = self.filter

        var batch: [AuditEvent] = []
        func drain(all: Bool = false) {
            while let event = grouping.nextEvent() {
                guard filter.matches(event) else { continue }
                outcome.events += 1
                batch.append(event)
                if batch.count >= EventPrinter.batchSize { printer.print(batch, into: &pending); batch.removeAll(keepingCapacity: true) }
            }
            if all && !batch.isEmpty {
                printer.print(batch, into: &pending)
                batch.removeAll(keepingCapacity: true)
            }
        }
        func flush() -> Bool {
            var offset = 0
            let ok = pending.withUnsafeBytes { raw -> Bool in
                while offset < raw.count {
                    let written = write(output, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    offset += written
                }
                return true
            }
            pending.removeAll(keepingCapacity: true)
            if !ok { outcome.outputFailed = true }
            return ok
        }
        // The clock is read once per 4096 lines and at each pause: timeouts are seconds long.
        var clock = Self.now()
        var linesSinceClock = 0
        follower.run(line: { line in
            linesSinceClock += 1
            if linesSinceClock == 4096 {
                linesSinceClock = 0
                clock = Self.now()
            }
            if let why = grouping.add(line: line, now: clock) {
                malformedNoted += 1
                if malformedNoted <= 10 {
                    let shown = String(decoding: line.prefix(80), as: UTF8.self)
                    note("skipping a line that is not an audit record (\(why)): \(shown)")
                }
            }
            drain()
            if pending.count >= 1 << 20 && !flush() { return }
        }, idle: {
            clock = Self.now()
            if follow {
                grouping.endIdleEvents(now: clock)
            }
            drain(all: true)
            return flush() && keepGoing()
        })
        grouping.finish()
        drain(all: true)
        _ = flush()
        outcome.counters = grouping.counters
        if malformedNoted > 10 { note("\(malformedNoted) lines in all were not audit records") }
        return outcome
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// The chosen format's formatters: a batch of events is formatted in two halves on two threads
/// (one formatter each, so each keeps its own caches) and printed in order.
struct EventPrinter {
    static let batchSize = 2048
    let format: EventFormat
    private var interpreted: [InterpretedEventFormatter] = []
    private var json: [EventJSONEncoder] = []
    private var halves: [[UInt8]] = [[], []]

    init(format: EventFormat) {
        self.format = format
        if format == .interpreted { interpreted = [InterpretedEventFormatter(), InterpretedEventFormatter()] }
        if format == .json { json = [EventJSONEncoder(), EventJSONEncoder()] }
    }

    mutating func print(_ events: [AuditEvent], into output: inout [UInt8]) {
        switch format {
        case .lines:
            for event in events { output.append(contentsOf: event.bytes) }
            return
        case .interpreted:
            if events.count < 256 {
                for event in events { interpreted[0].format(event, into: &output) }
                return
            }
        case .json:
            if events.count < 256 {
                for event in events { json[0].encode(event, into: &output) }
                return
            }
        }
        let middle = events.count / 2
        let shares = [events[..<middle], events[middle...]]
        if format == .interpreted {
            interpreted[1].systemCallArguments = InterpretedEventFormatter.systemCallArguments(
                after: shares[0], from: interpreted[0].systemCallArguments)
        }
        let format = self.format
        interpreted.withUnsafeMutableBufferPointer { interpreted in
            json.withUnsafeMutableBufferPointer { json in
                halves.withUnsafeMutableBufferPointer { halves in
                    nonisolated(unsafe) let interpreted = interpreted, json = json, halves = halves
                    DispatchQueue.concurrentPerform(iterations: 2) { index in
                        halves[index].removeAll(keepingCapacity: true)
                        for event in shares[index] {
                            if format == .interpreted {
                                interpreted[index].format(event, into: &halves[index])
                            } else {
                                json[index].encode(event, into: &halves[index])
                            }
                        }
                    }
                }
            }
        }
        if format == .interpreted { interpreted[0].systemCallArguments = interpreted[1].systemCallArguments }
        output.append(contentsOf: halves[0])
        output.append(contentsOf: halves[1])
    }
}
