import AuditProtocol

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
