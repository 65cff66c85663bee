import AuditEvents
import CAudit
import CAuparse
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// libauparse keeps state in globals (the loaded ENRICHED names, its own caches): formatters on
/// several threads take turns in it. Calls are rare once a formatter's cache is warm.
let auparseLock = Mutex<Void>(())

/// Prints events as `ausearch -i` (3.0.9) prints them, byte for byte: a `----` line, then the
/// records last to first, each with its stamp as local time and every field through libauparse's
/// interpreter.
///
/// The walk over a record's fields is `src/ausearch-report.c: output_interpreted_record` and
/// `report_interpret` at v3.0.9, quirks kept: the first field is printed after ` : `; a value
/// with a `,` before the next space is cut at the comma (MAC labels excepted); `msg=` of a user
/// record opens the fields inside it; the system call's `a0`/`a1` that other records' fields are
/// interpreted against are those of the last SYSCALL record printed, even in an earlier event;
/// an event whose last record is a daemon record (1200–1299) prints only that record.
///
/// Not thread-safe: libauparse keeps the loaded ENRICHED names in a global.
public struct InterpretedEventFormatter {
    private var scratch: [CChar] = []
    private var a0: UInt64 = 0
    private var a1: UInt64 = 0
    private var detectedMachine: Int32?
    private var cachedSecond: Int64 = .min
    private var cachedTime: [UInt8] = []
    private var cache = InterpretationCache(capacity: 1 << 14)
    private let keyWriter = OutputBuffer(capacity: 1 << 14)
    private var writer = OutputBuffer()
    private var fieldTypes = FieldTypeCache()
    /// The current record's ENRICHED part, names lower-cased, and where each name and value is.
    private let enrichment = OutputBuffer(capacity: 1 << 12)
    /// `enrichment.base` once it is loaded: read per field without touching the class.
    private var enrichmentBytes: UnsafeMutablePointer<UInt8>?
    private var enrichedNames: [(name: Range<Int>, value: Range<Int>)] = []
    private var currentInterp: UnsafeMutablePointer<CChar>?
    private var memo = InterpretedRecordMemo()
    /// The event's stamp as printed (`appendTime`), made once per event.
    private let timeText = OutputBuffer(capacity: 64)
    /// Where the walk printed the time (nil when it did not get that far), and whether a field was
    /// read against `a0`/`a1`: what `memo` needs to remember a record.
    private var printedTime: Range<Int>?
    private var readArguments = false

    static let syscallType: Int32 = 1300      // AUDIT_SYSCALL
    static let seccompType: Int32 = 1326      // AUDIT_SECCOMP
    static let firstDaemonType: Int32 = 1200  // AUDIT_DAEMON_START
    static let trustedAppType: Int32 = 1121   // AUDIT_TRUSTED_APP

    public init() {
        // ausearch formats its dates in the user's locale (`setlocale(LC_ALL, "")` in main).
        setlocale(LC_ALL, "")
        tzset()
    }

    /// Appends the text ausearch -i prints for `event` to `output`.
    public mutating func format(_ event: AuditEvent, into output: inout [UInt8]) {
        let writer = self.writer
        writer.removeAll()
        format(event, into: writer)
        output.append(contentsOf: UnsafeBufferPointer(start: writer.base, count: writer.count))
    }

    /// Appends the text ausearch -i prints for `event` to `output`.
    public mutating func format(_ event: AuditEvent, into output: OutputBuffer) {
        output.append("----\n")
        guard let last = event.records.last else { return }
        timeText.removeAll()
        appendTime(event.stamp, to: timeText)
        if last.type >= Self.firstDaemonType && last.type < Self.syscallType {
            format(last, of: event, into: output)
            return
        }
        for record in event.records.reversed() { format(record, of: event, into: output) }
    }

    private mutating func format(_ record: AuditEvent.Record, of event: AuditEvent, into output: OutputBuffer) {
        // ausearch's lnode: the line cut at the 0x1D (message) and what follows it (interp).
        let messageEnd = record.enrichment.map { $0.lowerBound - 1 } ?? record.line.upperBound
        let messageLength = messageEnd - record.line.lowerBound
        let total = record.line.count
        let time = timeText.bytes(from: 0)
        let stamp = event.bytes.withUnsafeBufferPointer { bytes in
            InterpretedRecordMemo.stamp(in: UnsafeBufferPointer(rebasing: bytes[record.line]), messageEnd: messageLength, hasNode: event.node != nil)
        }
        if let stamp {
            var arguments = (a0, a1)
            let printed = event.bytes.withUnsafeBufferPointer { bytes in
                memo.print(UnsafeBufferPointer(rebasing: bytes[record.line]), stamp: stamp, arguments: &arguments, time: time, into: output)
            }
            if printed {
                (a0, a1) = arguments
                return
            }
        }
        let start = output.count
        printedTime = nil
        readArguments = false
        defer {
            if stamp != nil, let printedTime {
                let header = InterpretedRecordMemo.Header(
                    setsArguments: record.type == Self.syscallType, readsArguments: readArguments,
                    a0: a0, a1: a1, prefixLength: 0)
                memo.remember(header, prefix: UnsafeRawBufferPointer(rebasing: output.bytes(from: start).prefix(printedTime.lowerBound - start)),
                              suffix: output.bytes(from: printedTime.upperBound))
            }
        }
        var work: [CChar] = []
        swap(&work, &scratch)
        defer { swap(&work, &scratch) }
        if work.count < total + 2 { work = [CChar](repeating: 0, count: total + 2) }
        work.withUnsafeMutableBufferPointer { buffer in
            event.bytes.withUnsafeBufferPointer { bytes in
                let base = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
                base.update(from: bytes.baseAddress! + record.line.lowerBound, count: total)
                base[total] = 0
                base[messageLength] = 0
                // The walk reads C strings: each part ends at its first NUL. Found once here, the
                // lengths let the walk below search and copy without measuring again.
                let length = memchr(base, 0, messageLength).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? messageLength
                var interp: (start: UnsafeMutablePointer<UInt8>, length: Int)?
                if record.enrichment != nil {
                    let start = base + messageLength + 1
                    let available = total - messageLength - 1
                    interp = (start, memchr(start, 0, available).map { start.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? available)
                }
                formatMessage(base, length: length, interp: interp, type: record.type, event: event, into: output)
            }
        }
    }

    /// The walk, on the record's bytes copied into `scratch` (`message[length]` is NUL and no byte
    /// before it is). It writes NULs where ausearch's walk does, so that the name and value handed
    /// to libauparse are C strings, but finds and copies everything by the lengths it knows.
    private mutating func formatMessage(
        _ message: UnsafeMutablePointer<UInt8>, length end: Int, interp: (start: UnsafeMutablePointer<UInt8>, length: Int)?,
        type: Int32, event: AuditEvent, into output: OutputBuffer
    ) {
        // ausearch reads a0 and a1 off the SYSCALL record before it prints anything (parse_syscall).
        if type == Self.syscallType { (a0, a1) = Self.firstArguments(Self.mutableCString(message)) }
        var start = message
        let limit = message + end
        if event.node != nil, let space = Self.find(0x20, from: message, to: limit) { start = space + 1 }
        guard let open = Self.find(UInt8(ascii: "("), from: start, to: limit) else {
            writeError("can't find time stamp\n")
            return
        }
        open.pointee = 0
        if type >= 0, let name = CAudit_message_type_name(type) {
            if let node = event.node { output.append("node="); output.append(node); output.append(0x20) }
            output.append("type=")
            output.append(cString: name)
            output.append(" msg=audit(")
        } else {
            if let node = event.node { output.append("node="); output.append(node); output.append(0x20) }
            output.append(start, count: start.distance(to: open))
            output.append(UInt8(ascii: "("))
        }
        guard let close = Self.find(UInt8(ascii: ")"), from: open + 1, to: limit) else { return }
        close.pointee = 0
        // ausearch's `str`: where the rest of the line starts, nil once its walk has lost it.
        var str: UnsafeMutablePointer<UInt8>? = close + 1
        let timeStart = output.count
        output.append(timeText.bytes(from: 0).baseAddress!, count: timeText.count)
        printedTime = timeStart..<output.count

        loadEnrichment(interp)
        var machine: Int32 = -1
        var syscall: Int32 = -1
        var found = false
        var comma = false
        // ausearch's `ptr` after the loop is NULL only when no `=` was left to find.
        var noFieldLeft = false
        while let current = str, current < limit {
            guard let equals = Self.find(UInt8(ascii: "="), from: current, to: limit) else {
                noFieldLeft = true
                break
            }
            comma = false
            found = true
            var name = equals
            while name.pointee != 0x20 && name > current { name -= 1 }
            equals.pointee = 0
            let value = equals + 1
            output.append(current, count: current.distance(to: equals))
            output.append(UInt8(ascii: "="))
            if Self.isName(name, equals, "msg") {
                str = value
                continue
            }
            if name.pointee == UInt8(ascii: "'") { name += 1 }
            // Where the value's C string ends: a NUL written below, or the line's end.
            var valueEnd = limit
            if value.pointee == UInt8(ascii: "'") || value.pointee == UInt8(ascii: "\"") {
                str = Self.find(value.pointee, from: value + 1, to: limit)
                if let end = str {
                    str = end + 1
                    if str! < limit { str!.pointee = 0; valueEnd = str!; str = str! + 1 }
                }
            } else {
                // ausearch looks for the comma in the whole rest of the line, then for the space,
                // and cuts at the comma only when it comes first: looking for a comma only up to
                // the space decides the same and keeps the walk linear in the line's length.
                let space = Self.find(0x20, from: value, to: limit)
                str = Self.find(UInt8(ascii: ","), from: value, to: space ?? limit)
                if let commaAt = str, let space {
                    if auparseLock.withLock({ _ in CAuparse_field_type(type, Self.cString(name), Self.cString(space)) }) == Int32(AUPARSE_TYPE_MAC_LABEL.rawValue) {
                        space.pointee = 0
                        valueEnd = space
                        str = space + 1
                    } else {
                        commaAt.pointee = 0
                        valueEnd = commaAt
                        str = commaAt + 1
                        comma = true
                    }
                } else if let commaAt = str, space == nil {
                    if auparseLock.withLock({ _ in CAuparse_field_type(type, Self.cString(name), Self.cString(value)) }) == Int32(AUPARSE_TYPE_MAC_LABEL.rawValue) {
                        str = nil
                    } else {
                        commaAt.pointee = 0
                        valueEnd = commaAt
                        str = commaAt + 1
                        comma = true
                    }
                } else if let space {
                    space.pointee = 0
                    valueEnd = space
                    str = space + 1
                }
            }
            interpret(name: name, nameEnd: equals, value: value, valueEnd: valueEnd, comma: comma, recordType: type,
                      machine: &machine, syscall: &syscall, into: output)
        }
        loadEnrichment(nil)
        // safe_print_string(str, 1) ends with its own newline (puts), then comes printf("\n").
        if !found && noFieldLeft, let rest = str {
            appendSafe(rest, to: limit, into: output)
            output.append(0x0A)
        } else if comma {
            if let rest = str {
                appendSafe(rest, to: limit, into: output)
                output.append(0x0A)
            } else {
                output.append("(null)")
            }
        }
        output.append(0x0A)
    }

    /// One field: `name..<nameEnd` and `value..<valueEnd`, each followed by a NUL.
    private mutating func interpret(
        name start: UnsafeMutablePointer<UInt8>, nameEnd: UnsafeMutablePointer<UInt8>,
        value: UnsafeMutablePointer<UInt8>, valueEnd end: UnsafeMutablePointer<UInt8>, comma: Bool, recordType: Int32,
        machine: inout Int32, syscall: inout Int32, into output: OutputBuffer
    ) {
        var name = start
        while name.pointee == 0x20 || name.pointee == UInt8(ascii: "(") { name += 1 }
        var valueEnd = end
        if Self.isName(name, nameEnd, "acct") {
            if valueEnd > value && (valueEnd - 1).pointee == UInt8(ascii: ":") { valueEnd -= 1; valueEnd.pointee = 0 }
        }
        let type = fieldType(recordType, name, nameEnd, value)
        var data = CAuparse_idata()
        if recordType == Self.syscallType || recordType == Self.seccompType {
            if machine == -1 {
                if detectedMachine == nil { detectedMachine = CAudit_detect_machine() }
                machine = detectedMachine!
            }
            if Self.isName(name, nameEnd, "arch") {
                errno = 0
                let arch = strtoul(Self.cString(value), nil, 16)
                if errno != 0 {
                    output.append("arch conversion error("); output.append(value, count: value.distance(to: valueEnd)); output.append(") ")
                    return
                }
                machine = CAudit_machine_of_arch(UInt32(truncatingIfNeeded: arch))
            }
            if syscall < 0 && Self.isName(name, nameEnd, "syscall") {
                errno = 0
                let number = strtoul(Self.cString(value), nil, 10)
                if errno != 0 {
                    output.append("syscall conversion error("); output.append(value, count: value.distance(to: valueEnd)); output.append(") ")
                    return
                }
                syscall = Int32(truncatingIfNeeded: number)
            }
            data.syscall = syscall
        } else {
            data.syscall = 0
        }
        if type == Int32(AUPARSE_TYPE_UNCLASSIFIED.rawValue) {
            output.append(value, count: value.distance(to: valueEnd))
            output.append(comma ? UInt8(ascii: ",") : 0x20)
            return
        }
        data.machine = UInt32(bitPattern: machine)
        data.a0 = a0
        data.a1 = a1
        data.name = Self.cString(name)
        data.val = Self.cString(value)
        data.cwd = nil
        let start = output.count
        appendInterpretation(type: type, data: &data, name: UnsafeRawBufferPointer(start: name, count: name.distance(to: nameEnd)),
                             value: UnsafeRawBufferPointer(start: value, count: value.distance(to: valueEnd)), into: output)
        if Self.isName(name, nameEnd, "key") {
            // ausearch prints each key of a multi-key rule (joined by 0x01) as a field of its own.
            let written = output.bytes(from: start)
            if written.contains(0x01) {
                let pieces = Array(written).split(separator: 0x01, omittingEmptySubsequences: false)
                output.truncate(to: start)
                for (index, piece) in pieces.enumerated() {
                    if index > 0 { output.append(" key=") }
                    output.append(Array(piece))
                }
            }
            output.append(0x20)
        } else if type != Int32(AUPARSE_TYPE_TTY_DATA.rawValue) {
            output.append(0x20)
        }
    }

    /// `auparse_interp_adjust_type`, remembered per record type and field name where the value
    /// does not matter to it (everywhere but `acct` and TRUSTED_APP records).
    private mutating func fieldType(
        _ recordType: Int32, _ name: UnsafeMutablePointer<UInt8>, _ nameEnd: UnsafeMutablePointer<UInt8>, _ value: UnsafeMutablePointer<UInt8>
    ) -> Int32 {
        if recordType == Self.trustedAppType || Self.isName(name, nameEnd, "acct") {
            return auparseLock.withLock { _ in CAuparse_field_type(recordType, Self.cString(name), Self.cString(value)) }
        }
        return fieldTypes.type(recordType, UnsafeRawBufferPointer(start: name, count: name.distance(to: nameEnd))) {
            auparseLock.withLock { _ in CAuparse_field_type(recordType, Self.cString(name), Self.cString(value)) }
        }
    }

    /// Appends what `auparse_do_interpretation` returns for the field, from the cache when the
    /// same interpretation was made before. Its result depends on the field's ENRICHED name when
    /// the record has one (and it is not `unknown-…`), else on the type, name and value, the
    /// machine and system call, and for a0–a3 on the system call's first two arguments.
    private mutating func appendInterpretation(
        type: Int32, data: inout CAuparse_idata, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into output: OutputBuffer
    ) {
        let key = keyWriter
        key.removeAll()
        let enriched = enrichedNames.isEmpty ? nil : enrichedValue(for: name)
        var fixed = (kind: UInt32(3), type: type, machine: data.machine, syscall: data.syscall, a0: UInt64(0), a1: UInt64(0))
        let known = enriched.map { range in
            range.count < 8 || memcmp(enrichmentBytes! + range.lowerBound, "unknown-", 8) != 0
        } ?? false
        if let enriched, known {
            fixed.kind = 2
            fixed.machine = 0
            fixed.syscall = 0
            withUnsafeBytes(of: &fixed) { key.append($0.baseAddress!, count: $0.count) }
            key.append(enrichmentBytes! + enriched.lowerBound, count: enriched.count)
        } else {
            if type >= Int32(AUPARSE_TYPE_A0.rawValue) && type <= Int32(AUPARSE_TYPE_A3.rawValue) {
                fixed.a0 = data.a0
                fixed.a1 = data.a1
                readArguments = true
            }
            withUnsafeBytes(of: &fixed) { key.append($0.baseAddress!, count: $0.count) }
            key.append(name.baseAddress!, count: name.count)
            key.append(0)
            key.append(value.baseAddress!, count: value.count)
        }
        let keyBytes = key.bytes(from: 0)
        let hash = InterpretationCache.hash(keyBytes)
        if cache.append(keyBytes, hash: hash, to: output) { return }
        let useList = enriched != nil && currentInterp != nil
        let interp = currentInterp
        var copy = data
        let address = auparseLock.withLock { _ in
            if useList { CAuparse_load_interpretations(interp!) }
            let out = CAuparse_interpret(type, &copy, AUPARSE_ESC_TTY)
            if useList { CAuparse_free_interpretations() }
            return UInt(bitPattern: out)  // the caller frees it
        }
        let out = UnsafeMutablePointer<CChar>(bitPattern: address)
        let start = output.count
        if let out {
            output.append(cString: out)
            free(out)
        } else {
            output.append("(null)")
        }
        cache.store(keyBytes, hash: hash, value: output.bytes(from: start))
    }

    /// The value the record's ENRICHED part gives for `name`, as libauparse's interpretation list
    /// holds it (`load_interpretation_list`: split on spaces, names lower-cased, the first match
    /// wins; a SOCKADDR's `SADDR={ … }` whole). Mutating though it changes nothing: a
    /// non-mutating method is handed a copy of the formatter, its references retained and released.
    private mutating func enrichedValue(for name: UnsafeRawBufferPointer) -> Range<Int>? {
        let length = name.count
        // An empty name is not looked up: the C string's NUL never matches an entry's first byte.
        guard length > 0 else { return nil }
        let first = name[0]
        guard let bytes = enrichmentBytes else { return nil }
        for entry in enrichedNames where entry.name.count == length && bytes[entry.name.lowerBound] == first {
            if memcmp(bytes + entry.name.lowerBound, name.baseAddress!, length) == 0 { return entry.value }
        }
        return nil
    }

    /// Reads the record's ENRICHED part into `enrichment` / `enrichedNames` (names lower-cased).
    private mutating func loadEnrichment(_ interp: (start: UnsafeMutablePointer<UInt8>, length: Int)?) {
        enrichment.removeAll()
        enrichedNames.removeAll(keepingCapacity: true)
        currentInterp = interp.map { Self.mutableCString($0.start) }
        enrichmentBytes = nil
        guard let (start, length) = interp else { return }
        enrichment.append(start, count: length)
        enrichment.reserve(5)  // "saddr", below: `base` stays where it is
        let bytes = enrichment.base
        enrichmentBytes = bytes
        if length >= 6 && memcmp(bytes, "SADDR=", 6) == 0 {
            if let brace = memchr(bytes, Int32(UInt8(ascii: "{")), length).map({ bytes.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }),
               memchr(bytes + brace, Int32(UInt8(ascii: "}")), length - brace) != nil {
                enrichment.append("saddr")
                enrichedNames.append((length..<length + 5, brace..<length))
            }
            return
        }
        var index = 0
        while index < length {
            while index < length && bytes[index] == 0x20 { index += 1 }
            let tokenStart = index
            while index < length && bytes[index] != 0x20 { index += 1 }
            guard tokenStart < index,
                  let equals = memchr(bytes + tokenStart, Int32(UInt8(ascii: "=")), index - tokenStart)
                    .map({ bytes.distance(to: $0.assumingMemoryBound(to: UInt8.self)) })
            else { continue }
            for position in tokenStart..<equals where bytes[position] >= 0x41 && bytes[position] <= 0x5A {
                bytes[position] += 0x20
            }
            enrichedNames.append((tokenStart..<equals, (equals + 1)..<index))
        }
    }

    /// The first `byte` in `start..<end`.
    @inline(__always)
    static func find(_ byte: UInt8, from start: UnsafeMutablePointer<UInt8>, to end: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8>? {
        guard start < end else { return nil }
        return memchr(start, Int32(byte), start.distance(to: end))?.assumingMemoryBound(to: UInt8.self)
    }

    @inline(__always)
    static func cString(_ bytes: UnsafeMutablePointer<UInt8>) -> UnsafePointer<CChar> {
        UnsafePointer(UnsafeMutableRawPointer(bytes).assumingMemoryBound(to: CChar.self))
    }

    @inline(__always)
    static func mutableCString(_ bytes: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<CChar> {
        UnsafeMutableRawPointer(bytes).assumingMemoryBound(to: CChar.self)
    }

    /// `parse_syscall`'s a0 and a1 (hex), which ausearch keeps on the SYSCALL record: searched
    /// after `syscall=`, each value ending at a space; 0 when not found.
    static func firstArguments(_ message: UnsafeMutablePointer<CChar>) -> (UInt64, UInt64) {
        guard let syscall = strstr(message, "syscall="), let afterSyscall = strchr(syscall + 8, 0x20) else { return (0, 0) }
        guard let a0Field = strstr(afterSyscall, "a0="), let a0End = strchr(a0Field + 3, 0x20) else { return (0, 0) }
        a0End.pointee = 0
        let a0 = strtoull(a0Field + 3, nil, 16)
        a0End.pointee = 0x20
        guard let a1Field = strstr(a0End, "a1="), let a1End = strchr(a1Field + 3, 0x20) else { return (a0, 0) }
        a1End.pointee = 0
        let a1 = strtoull(a1Field + 3, nil, 16)
        a1End.pointee = 0x20
        return (UInt64(a0), UInt64(a1))
    }

    /// `%x %T` of the stamp's second in local time, then `.MMM:SERIAL) `.
    private mutating func appendTime(_ stamp: EventStamp, to output: OutputBuffer) {
        if stamp.seconds != cachedSecond {
            cachedSecond = stamp.seconds
            var seconds = time_t(stamp.seconds)
            var parts = tm()
            var text = [CChar](repeating: 0, count: 32)
            if localtime_r(&seconds, &parts) != nil {
                let length = strftime(&text, 32, "%x %T", &parts)
                cachedTime = text[0..<length].map { UInt8(bitPattern: $0) }
            } else {
                cachedTime = Array("?".utf8)
            }
        }
        output.append(cachedTime)
        output.append(UInt8(ascii: "."))
        let milli = stamp.milliseconds
        output.append(UInt8(ascii: "0") + UInt8(milli / 100))
        output.append(UInt8(ascii: "0") + UInt8(milli / 10 % 10))
        output.append(UInt8(ascii: "0") + UInt8(milli % 10))
        output.append(UInt8(ascii: ":"))
        output.append(decimal: stamp.serial)
        output.append(") ")
    }


    /// Whether the name `name..<end` is `literal`: `strcmp` without a call, most names differing
    /// in their first byte.
    @inline(__always)
    static func isName(_ name: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        guard name.distance(to: end) == literal.utf8CodeUnitCount else { return false }
        let bytes = literal.utf8Start
        for index in 0..<literal.utf8CodeUnitCount where name[index] != bytes[index] { return false }
        return true
    }

    /// ausearch's `safe_print_string` in its default (tty) escape mode: a control character
    /// (below 32) as a backslash and three octal digits, everything else as is.
    private func appendSafe(_ start: UnsafePointer<UInt8>, to end: UnsafePointer<UInt8>, into output: OutputBuffer) {
        var text = start
        while text < end {
            let byte = text.pointee
            if byte < 32 {
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "0") + (byte >> 6))
                output.append(UInt8(ascii: "0") + ((byte >> 3) & 7))
                output.append(UInt8(ascii: "0") + (byte & 7))
            } else {
                output.append(byte)
            }
            text += 1
        }
    }

    private func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
