/// Which events to keep: all of the given conditions hold (an empty list holds for every event).
public struct EventFilter: Sendable {
    /// Keep an event with one of these keys (`key=` of any record; several keys on one rule count
    /// one by one).
    public var keys: [[UInt8]]
    /// Keep an event with a record of one of these types.
    public var types: [Int32]
    /// Keep an event stamped at or after this second.
    public var since: Int64?

    public init(keys: [[UInt8]] = [], types: [Int32] = [], since: Int64? = nil) {
        self.keys = keys
        self.types = types
        self.since = since
    }

    public var keepsEverything: Bool { keys.isEmpty && types.isEmpty && since == nil }

    public func matches(_ event: AuditEvent) -> Bool {
        if let since, event.stamp.seconds < since { return false }
        if !types.isEmpty && !event.records.contains(where: { types.contains($0.type) }) { return false }
        if !keys.isEmpty {
            var found = false
            event.bytes.withUnsafeBufferPointer { bytes in
                for record in event.records where !found {
                    RecordFields.forEach(in: bytes, range: record.body) { name, value in
                        guard !found, FieldText.equals(bytes, name, "key") else { return }
                        for key in FieldText.keys(in: bytes, value) where keys.contains(key) { found = true }
                    }
                }
            }
            if !found { return false }
        }
        return true
    }
}
