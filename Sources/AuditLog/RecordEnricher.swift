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

    // MARK: - Values

    /// Writes the interpreted value; true when it is a user or group name, which auditd quotes or
    /// hex-encodes (`audit_encode_nv_string`).
    private func interpret(_ kind: InterpretedField.Kind, _ value: UnsafeRawBufferPointer, _ record: RecordFacts,
                           into sink: inout TextSink) -> Bool {
        switch kind {
        case .user:
            appendAccount(value, cache: users, to: &sink)
            return true
        case .group:
            appendAccount(value, cache: groups, to: &sink)
            return true
        case .arch:
            appendArch(value, record, to: &sink)
        case .systemCall:
            appendSystemCall(value, record, to: &sink)
        case .socketAddress:
            SocketAddressText.append(value, to: &sink)
        }
        return false
    }

    /// `print_uid`/`print_gid`: `strtoul` into an `int`; -1 is `unset`, 0 is `root` (neither is
    /// looked up), a miss is `unknown(N)` with N signed.
    private func appendAccount(_ value: UnsafeRawBufferPointer, cache: AccountNameCache, to sink: inout TextSink) {
        // Most ids in a record are root or unset: answer those without parsing.
        if value.count == 1, value[0] == UInt8(ascii: "0") { return sink.append("root") }
        if RecordFields.equals(value, "4294967295") { return sink.append("unset") }
        let (number, overflow) = CNumber.parse(value, base: 10)
        if overflow {
            sink.append("conversion error(")
            sink.append(value)
            sink.append(")")
            return
        }
        let id = Int32(truncatingIfNeeded: number)
        switch id {
        case -1: sink.append("unset")
        case 0: sink.append("root")
        default:
            if let name = cache.name(of: UInt32(bitPattern: id)) {
                sink.append(name)
            } else {
                sink.append("unknown(")
                sink.append(decimal: Int64(id))
                sink.append(")")
            }
        }
    }

    /// `print_arch`: the machine auparse took from the record's 2nd field when it is one of the
    /// first ten, else this field's own hex value.
    private func appendArch(_ value: UnsafeRawBufferPointer, _ record: RecordFacts, to sink: inout TextSink) {
        var machine = record.machine
        if machine < 0 || machine > machines.lastDirectMachine {
            let (arch, overflow) = CNumber.parse(value, base: 16)
            if overflow {
                sink.append("conversion error(")
                sink.append(value)
                sink.append(") ")
                return
            }
            machine = machines.machine(ofArch: UInt32(truncatingIfNeeded: arch))
            if machine < 0 {
                sink.append("unknown-elf-type(")
                sink.append(value)
                sink.append(")")
                return
            }
        }
        if let name = machines.name(ofMachine: machine) {
            sink.append(name)
        } else {
            sink.append("unknown-machine-type(")
            sink.append(decimal: UInt64(UInt32(bitPattern: machine)))
            sink.append(")")
        }
    }

    /// `print_syscall`: the record's system call (its 3rd field, -1 when elsewhere) on the
    /// record's machine (this one's when unknown); socketcall and ipc name their call from `a0`.
    private func appendSystemCall(_ value: UnsafeRawBufferPointer, _ record: RecordFacts, to sink: inout TextSink) {
        let machine = record.machine < 0 ? machines.hostMachine : record.machine
        guard machine >= 0 else { return sink.append(value) }
        guard let name = machines.name(ofSystemCall: record.systemCall, machine: machine) else {
            sink.append("unknown-syscall(")
            sink.append(decimal: Int64(record.systemCall))
            sink.append(")")
            return
        }
        sink.append(name)
        let a0 = record.a0
        guard UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: a0))) == a0 else { return }
        let call = Int32(truncatingIfNeeded: a0)
        var function: StaticString?
        if RecordFields.equals(name, "socketcall") {
            function = Self.socketCallName(call)
        } else if RecordFields.equals(name, "ipc") {
            function = Self.ipcCallName(call)
        }
        if let function {
            sink.append("(")
            sink.append(function)
            sink.append(")")
        }
    }

    /// Whether the record's system call is socketcall or ipc, which auparse names with `a0`.
    private func namesItsCallFromA0(_ record: RecordFacts) -> Bool {
        let machine = record.machine < 0 ? machines.hostMachine : record.machine
        guard let name = machines.name(ofSystemCall: record.systemCall, machine: machine) else { return false }
        return RecordFields.equals(name, "socketcall") || RecordFields.equals(name, "ipc")
    }

    /// auparse's `socktab.h`.
    private static func socketCallName(_ call: Int32) -> StaticString? {
        switch call {
        case 1: "socket"
        case 2: "bind"
        case 3: "connect"
        case 4: "listen"
        case 5: "accept"
        case 6: "getsockname"
        case 7: "getpeername"
        case 8: "socketpair"
        case 9: "send"
        case 10: "recv"
        case 11: "sendto"
        case 12: "recvfrom"
        case 13: "shutdown"
        case 14: "setsockopt"
        case 15: "getsockopt"
        case 16: "sendmsg"
        case 17: "recvmsg"
        case 18: "accept4"
        case 19: "recvmmsg"
        case 20: "sendmmsg"
        default: nil
        }
    }

    /// auparse's `ipctab.h`.
    private static func ipcCallName(_ call: Int32) -> StaticString? {
        switch call {
        case 1: "semop"
        case 2: "semget"
        case 3: "semctl"
        case 4: "semtimedop"
        case 11: "msgsnd"
        case 12: "msgrcv"
        case 13: "msgget"
        case 14: "msgctl"
        case 21: "shmat"
        case 22: "shmdt"
        case 23: "shmget"
        case 24: "shmctl"
        default: nil
        }
    }

    // MARK: - Bytes

    /// `audit_value_needs_encoding`: a `"`, a byte below 0x21, or 0x7F and above (libaudit tests
    /// a signed char).
    static func needsHex(_ value: UnsafeRawBufferPointer) -> Bool {
        for byte in value where byte == UInt8(ascii: "\"") || byte < 0x21 || byte >= 0x7F { return true }
        return false
    }

    private static let hexDigits: StaticString = "0123456789ABCDEF"

    private static func writeHex(_ bytes: UnsafeRawBufferPointer, to output: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let digits = hexDigits.utf8Start
        var cursor = output
        for byte in bytes {
            cursor[0] = digits[Int(byte >> 4)]
            cursor[1] = digits[Int(byte & 0x0F)]
            cursor += 2
        }
        return cursor
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to output: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return output }
        copyBytes(source.assumingMemoryBound(to: UInt8.self), count: bytes.count, to: output)
        return output + bytes.count
    }

    /// auparse's `extract_timestamp`: the token after `type=` (and `node=`) must hold a `(` within
    /// the first 80 bytes (340 with a node) of the line, or auparse skips the line. auparse then
    /// reads the stamp from 10 bytes on; a shorter one (never from a kernel) reads past it, so it
    /// counts as none here.
    static func hasTimestamp(_ line: UnsafeRawBufferPointer) -> Bool {
        let window = min(line.count, line.first == UInt8(ascii: "n") ? 340 : 80)
        var index = 0
        var token = 0
        let wanted = line.first == UInt8(ascii: "n") ? 2 : 1
        while index < window {
            while index < window, line[index] == UInt8(ascii: " ") { index += 1 }
            guard index < window else { return false }
            if token == wanted {
                while index < window, line[index] != UInt8(ascii: " "), line[index] != UInt8(ascii: "(") { index += 1 }
                guard index < window, line[index] == UInt8(ascii: "(") else { return false }
                let stamp = index + 1
                while index < window, line[index] != UInt8(ascii: " "), line[index] != UInt8(ascii: ")") { index += 1 }
                return index - stamp >= 10
            }
            while index < window, line[index] != UInt8(ascii: " ") { index += 1 }
            token += 1
        }
        return false
    }
}

/// What auparse learns from a record's first fields before it interprets any: the machine from
/// `arch` (2nd field), the system call (3rd) and `a0` (6th), counted after `node`.
struct RecordFacts {
    var machine: Int32 = -1
    var systemCall: Int32 = -1
    var a0: UInt64 = 0

    init() {}

    /// The facts of a whole record, read ahead.
    init(_ line: UnsafeRawBufferPointer, type: AuditMessageType, machines: MachineNames) {
        var fields = RecordFields(line: line, type: type)
        while let field = fields.next() {
            let position = field.index - fields.offset
            if position > 6 { break }
            observe(field, at: position, machines: machines)
        }
    }

    /// Takes in the field at `position` (1 is `type`), as `parse_up_record` does.
    mutating func observe(_ field: RecordFields.Field, at position: Int, machines: MachineNames) {
        switch position {
        case 2 where RecordFields.equals(field.name, "arch"):
            // Numbers end before any trailing punctuation, so the untrimmed value reads the same.
            let (arch, overflow) = CNumber.parse(field.rawValue, base: 16)
            machine = overflow ? -2 : machines.machine(ofArch: UInt32(truncatingIfNeeded: arch))
        case 3 where RecordFields.equals(field.name, "syscall"):
            let (number, overflow) = CNumber.parse(field.rawValue, base: 10)
            systemCall = overflow ? -1 : Int32(truncatingIfNeeded: number)
        case 6 where RecordFields.equals(field.name, "a0"):
            let (value, overflow) = CNumber.parse(field.rawValue, base: 16)
            a0 = overflow ? UInt64.max : value
        default:
            break
        }
    }
}
