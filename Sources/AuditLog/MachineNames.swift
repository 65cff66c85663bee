import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// libaudit's machine and system-call name tables, the ones auparse 3.0.9 writes `ARCH=` and
/// `SYSCALL=` with, looked up without allocating: libaudit's strings are static, and the names of
/// each machine's first 1024 system calls are found once and kept.
final class MachineNames {
    /// The machine this process runs on (auparse's `audit_detect_machine()`), for records whose
    /// `arch=` is missing or unknown.
    let hostMachine: Int32
    /// The last machine auparse takes from a record's 2nd field as is (`MACH_AARCH64`).
    let lastDirectMachine: Int32

    private static let tableSize = 1024
    private static let machineCount = 16
    /// Per machine, lazily: each system call's name, nil when libaudit has none. Plain memory
    /// rather than stored `var`s, so the record path pays no exclusivity checks.
    private let tables: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeRawBufferPointer?>?>
    /// The last arch value asked about and its machine.
    private let lastArch: UnsafeMutablePointer<(arch: UInt32, machine: Int32)>

    init() {
        hostMachine = CAudit_detect_machine()
        lastDirectMachine = CAudit_last_direct_machine()
        tables = .allocate(capacity: Self.machineCount)
        tables.initialize(repeating: nil, count: Self.machineCount)
        lastArch = .allocate(capacity: 1)
        lastArch.initialize(to: (0xC000_003E, CAudit_machine_of_arch(0xC000_003E)))
    }

    deinit {
        for index in 0..<Self.machineCount { tables[index]?.deallocate() }
        tables.deallocate()
        lastArch.deallocate()
    }

    /// libaudit's machine for an audit arch value, or -1.
    func machine(ofArch arch: UInt32) -> Int32 {
        if arch != lastArch.pointee.arch {
            lastArch.pointee = (arch, CAudit_machine_of_arch(arch))
        }
        return lastArch.pointee.machine
    }

    /// libaudit's name for `machine`, or nil.
    func name(ofMachine machine: Int32) -> UnsafeRawBufferPointer? {
        Self.bytes(CAudit_machine_name(machine))
    }

    /// libaudit's name for system call `number` on `machine`, or nil.
    func name(ofSystemCall number: Int32, machine: Int32) -> UnsafeRawBufferPointer? {
        guard number >= 0, number < Self.tableSize, machine >= 0, machine < Self.machineCount else {
            return Self.bytes(CAudit_system_call_name(number, machine))
        }
        let table = tables[Int(machine)] ?? makeTable(machine)
        return table[Int(number)]
    }

    private func makeTable(_ machine: Int32) -> UnsafeMutablePointer<UnsafeRawBufferPointer?> {
        let table = UnsafeMutablePointer<UnsafeRawBufferPointer?>.allocate(capacity: Self.tableSize)
        for number in 0..<Self.tableSize {
            (table + number).initialize(to: Self.bytes(CAudit_system_call_name(Int32(number), machine)))
        }
        tables[Int(machine)] = table
        return table
    }

    private static func bytes(_ string: UnsafePointer<CChar>?) -> UnsafeRawBufferPointer? {
        guard let string else { return nil }
        return UnsafeRawBufferPointer(start: string, count: strlen(string))
    }
}
