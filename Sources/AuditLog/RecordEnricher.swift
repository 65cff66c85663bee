import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The ENRICHED part of a line: after the RAW text, one 0x1D byte, then `NAME=value` pairs for the
/// fields auditd 3.0.9 interprets, byte for byte as `src/auditd-event.c: format_enrich` writes them
/// through libauparse 3.0.9.
///
/// The RAW line is read where it lies in the output buffer and the pairs are appended behind it:
/// no strings, arrays or allocations per record. Names come from `AccountNameCache`s that ask an
/// `AccountDirectory` only on a miss; system call and machine names from libaudit's static tables.
///
/// auditd's limits are kept: nothing is added when fewer than 25 bytes of its 9225-byte format
/// buffer are left; a pair that does not fit is skipped, never cut (but the 0x1D stays, and the
/// next pair then starts with a space); the line is cut at 8969 bytes, the most auditd hands on.
/// A RAW text that is itself longer than that is never cut (auditd would have cut it).
///
/// One deliberate difference: a newline in a decoded value (a socket path) becomes a space, so a
/// record is always one line; auditd writes it as it is and splits the record.
public final class RecordEnricher {
    /// auditd's format buffer: `MAX_AUDIT_MESSAGE_LENGTH + _POSIX_HOST_NAME_MAX`.
    static let formatBufferLength = 8970 + 255
    /// Below this many free bytes auditd adds no more pairs (`MIN_SPACE_LEFT`).
    static let minimumSpaceLeft = 24
    /// `replace_event_msg` keeps at most `MAX_AUDIT_MESSAGE_LENGTH - 1` bytes of a line.
    static let lineLimit = 8969
    /// The most `appendInterpretations` adds to a line.
    public static let maximumAddedLength = formatBufferLength

    static let separator: UInt8 = 0x1D

    let users: AccountNameCache
    let groups: AccountNameCache
    let machines = MachineNames()
    /// Where a value is built before its length is known; the longest value is a
    /// `conversion error(…)` around a field as long as the line.
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchCapacity = 2 * formatBufferLength
    /// Whether lines are skimmed for the names auditd interprets (`RecordFields`); false reads
    /// every field, for tests that compare the two.
    let skimsFields: Bool

    /// - Parameters:
    ///   - directory: where user and group names come from.
    ///   - missLifetime: milliseconds an id the directory did not know is not asked again; 0 asks
    ///     on every record, as auditd does.
    ///   - clock: milliseconds of a monotonic clock, for `missLifetime`.
    public convenience init(directory: any AccountDirectory = SystemAccountDirectory(), missLifetime: Int64 = 100,
                clock: @escaping () -> Int64 = MonotonicClock.coarseMilliseconds) {
        self.init(directory: directory, missLifetime: missLifetime, clock: clock, skimsFields: true)
    }

    init(directory: any AccountDirectory, missLifetime: Int64, clock: @escaping () -> Int64, skimsFields: Bool) {
        self.skimsFields = skimsFields
        users = AccountNameCache(missLifetime: missLifetime, clock: clock) { directory.userName(uid: $0) }
        groups = AccountNameCache(missLifetime: missLifetime, clock: clock) { directory.groupName(gid: $0) }
        scratch = .allocate(capacity: Self.scratchCapacity)
    }

    deinit { scratch.deallocate() }

    /// Appends the interpretations of the RAW line that starts at `lineStart` and ends at the end
    /// of `buffer` (no newline yet). The caller made room for `maximumAddedLength` more bytes.
    public func appendInterpretations(type: AuditMessageType, lineStart: Int, to buffer: OutputBuffer) {
        let rawLength = buffer.count - lineStart
        var left = Self.formatBufferLength - rawLength
        guard left > Self.minimumSpaceLeft else { return }
        let line = UnsafeRawBufferPointer(start: buffer.base + lineStart, count: rawLength)
        // auparse reads an earlier enrichment after a 0x1D; fields are what comes before it.
        let fieldsEnd = memchr(buffer.base + lineStart, Int32(Self.separator), rawLength).map { $0 - (buffer.base + lineStart) } ?? rawLength
        let text = UnsafeRawBufferPointer(rebasing: line[..<fieldsEnd])
        // Most lines (PROCTITLE, EXECVE, CWD, EOE) hold no name auditd interprets: nothing to add,
        // unless the record also makes auparse forget its cached names.
        guard !skimsFields || RecordFields.mayHoldInterpretedField(text) || Self.flushesNames(type) else { return }
        guard Self.hasTimestamp(text) else { return }
        if type == .avc || type == .userAVC, RecordFields.isRefused(text, type: type) { return }

        if type == .addUser || type == .addGroup { flushNames() }

        var pairs = 0
        var fields = RecordFields(line: text, type: type, skims: skimsFields)
        // What auparse knows of the record before it interprets a field, gathered on the way;
        // `complete` once every field it reads (up to the 6th) has gone by.
        var record = RecordFacts()
        let start = buffer.base.bindMemory(to: UInt8.self, capacity: buffer.capacity)
        var output = start + buffer.count
        while left > Self.minimumSpaceLeft, let field = fields.next() {
            let position = field.index - fields.offset
            if position <= 6 { record.observe(field, at: position, machines: machines) }
            guard field.nameKey != 0,
                  let interpreted = InterpretedField.named(key: field.nameKey, count: field.name.count,
                                                           ninth: field.name.count == 9 ? field.name[8] : 0)?
                      .adjusted(for: type, name: field.name) else {
                continue
            }
            if interpreted.kind == .systemCall, position < 6, position < 3 || namesItsCallFromA0(record) {
                // What auparse knew of fields further on: read the record's head first.
                record = RecordFacts(text, type: type, machines: machines)
            }
            if pairs == 0 {
                output.pointee = Self.separator
                output += 1
                left -= 1
            }
            pairs += 1
            var value = TextSink(base: scratch, capacity: Self.scratchCapacity)
            let isName = interpret(interpreted.kind, field.value, record, into: &value)
            let label = UnsafeRawBufferPointer(start: interpreted.label.utf8Start, count: interpreted.label.utf8CodeUnitCount)
            let hex = isName && Self.needsHex(value.bytes)
            let pairLength = label.count + 1 + (hex ? 2 * value.count : isName ? value.count + 2 : value.count)
            // add_simple_field: a pair that does not fit is skipped.
            guard 1 + pairLength + 1 < left else { continue }
            if pairs > 1 {
                output.pointee = UInt8(ascii: " ")
                output += 1
                left -= 1
            }
            output = Self.write(label, to: output)
            output.pointee = UInt8(ascii: "=")
            output += 1
            if hex {
                output = Self.writeHex(value.bytes, to: output)
            } else if isName {
                output.pointee = UInt8(ascii: "\"")
                output = Self.write(value.bytes, to: output + 1)
                output.pointee = UInt8(ascii: "\"")
                output += 1
            } else {
                output = Self.write(value.bytes, to: output)
            }
            left -= pairLength
        }
        buffer.count = output - start
        if buffer.count - lineStart > Self.lineLimit {
            buffer.count = lineStart + max(Self.lineLimit, rawLength)
        }
        // A record stays one line. A decoded value can hold a newline (a local socket's path, an
        // X.25 or AX.25 address: bytes any user chooses), which auparse 3.0.9 prints as it is, so
        // whoever names a socket could write a line of their own into the log (found by fuzzing).
        // Newlines become spaces, as in the RAW text; the one place this differs from auditd.
        let enrichmentStart = lineStart + rawLength
        if buffer.count > enrichmentStart {
            RecordFormatter.replace(0x0A, with: 0x20, in: buffer.base + enrichmentStart, count: buffer.count - enrichmentStart)
        }

        switch type {
        case .userManagement, .deleteUser, .deleteGroup, .groupManagement:
            flushNames()
        default:
            break
        }
    }

    /// Whether auparse forgets its cached names before or after reading a record of `type`.
    private static func flushesNames(_ type: AuditMessageType) -> Bool {
        switch type {
        case .addUser, .addGroup, .userManagement, .deleteUser, .deleteGroup, .groupManagement:
            true
        default:
            false
        }
    }

    /// Forgets every cached user and group name (auparse's `_auparse_flush_caches`).
    public func flushNames() {
        users.flush()
        groups.flush()
    }

}
