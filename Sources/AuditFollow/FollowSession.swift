import AuditEvents
import AuditInterpretation
import AuditSystem
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
        /// Why writing to the output failed, if it did.
        public var outputError: Errno?
        public var outputFailed: Bool { outputError != nil }
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
        let printer = EventPrinter(format: format, output: output)
        let follower = LogFollower(path: path, follow: follow, note: note)
        var malformedNoted = 0
        let filter = self.filter

        var batch: [AuditEvent] = []
        batch.reserveCapacity(EventPrinter.batchSize)
        func hand() {
            _ = printer.print(&batch)
            grouping.recycle(&batch)
        }
        func drain(all: Bool = false) {
            while let event = grouping.nextEvent() {
                guard filter.matches(event) else { continue }
                outcome.events += 1
                batch.append(event)
                if batch.count >= EventPrinter.batchSize { hand() }
            }
            if all && !batch.isEmpty { hand() }
        }
        func flush() -> Bool {
            if let error = printer.flush() {
                outcome.outputError = error
                return false
            }
            return true
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
