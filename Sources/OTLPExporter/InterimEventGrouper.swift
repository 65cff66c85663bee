import CAudit

/// A stopgap until the events library lands: groups lines by stamp and closes an event on the
/// record types auparse treats as an event's last (`auparse.c: audit_is_last_record`, 3.0.9:
/// EOE, PROCTITLE, USER, 1007-1299, 1700-1799, 2100-2199), after `timeout` without a new record,
/// or at the end. It keeps no more than that: not ausearch's interleaving heuristics.
public struct InterimEventGrouper: EventAssembling {
    private var open: [EventStamp: (event: AuditEventLines, touched: ContinuousClock.Instant)] = [:]
    /// Stamps that closed on their last record: an EOE after a PROCTITLE must not open a new event.
    private var recentlyClosed: [EventStamp] = []
    private var recentlyClosedSet: Set<EventStamp> = []
    private let timeout: Duration

    public init(timeout: Duration) { self.timeout = timeout }

    public mutating func add(_ record: RecordLine, at now: ContinuousClock.Instant) -> [AuditEventLines] {
        let type = Int(CAudit_message_type_number(record.typeName))
        let isLast = Self.isLastRecord(type: type)
        if recentlyClosedSet.contains(record.stamp) {
            // EOE after the PROCTITLE that closed it carries nothing; anything else is a late record.
            if record.typeName == "EOE" { return [] }
        }
        var entry = open.removeValue(forKey: record.stamp) ?? (AuditEventLines(stamp: record.stamp, records: []), now)
        if record.typeName != "EOE" { entry.event.records.append(record) }
        if isLast {
            remember(record.stamp)
            return entry.event.records.isEmpty ? [] : [entry.event]
        }
        entry.touched = now
        open[record.stamp] = entry
        return []
    }

    public mutating func closeStale(at now: ContinuousClock.Instant) -> [AuditEventLines] {
        let stale = open.filter { now - $0.value.touched >= timeout }
        for stamp in stale.keys { open[stamp] = nil; remember(stamp) }
        return stale.values.map(\.event).sorted { $0.stamp.serial < $1.stamp.serial }
    }

    public mutating func closeAll() -> [AuditEventLines] {
        defer { open = [:] }
        return open.values.map(\.event).sorted { $0.stamp.serial < $1.stamp.serial }
    }

    public var openCount: Int { open.count }

    static func isLastRecord(type: Int) -> Bool {
        type == 1320 || type == 1327 || type == 1005 || (1007...1299).contains(type)
            || (1700...1799).contains(type) || (2100...2199).contains(type)
    }

    private mutating func remember(_ stamp: EventStamp) {
        recentlyClosed.append(stamp)
        recentlyClosedSet.insert(stamp)
        if recentlyClosed.count > 256 {
            recentlyClosedSet.remove(recentlyClosed.removeFirst())
        }
    }
}
