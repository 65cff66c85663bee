import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The values the ENRICHED part writes: names of accounts, machines and system calls, as
/// libauparse 3.0.9 interprets them (`auparse/interpret.c`).
extension RecordEnricher {
    /// Writes the interpreted value; true when it is a user or group name, which auditd quotes or
    /// hex-encodes (`audit_encode_nv_string`).
    func interpret(_ kind: InterpretedField.Kind, _ value: UnsafeRawBufferPointer, _ record: RecordFacts,
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
    func appendAccount(_ value: UnsafeRawBufferPointer, cache: AccountNameCache, to sink: inout TextSink) {
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
    func appendArch(_ value: UnsafeRawBufferPointer, _ record: RecordFacts, to sink: inout TextSink) {
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
    func appendSystemCall(_ value: UnsafeRawBufferPointer, _ record: RecordFacts, to sink: inout TextSink) {
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
    func namesItsCallFromA0(_ record: RecordFacts) -> Bool {
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
}
