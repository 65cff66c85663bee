import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Byte tests the ENRICHED part makes on values and lines, as libaudit and auditd make them.
extension RecordEnricher {
    /// `audit_value_needs_encoding`: a `"`, a byte below 0x21, or 0x7F and above (libaudit tests
    /// a signed char).
    static func needsHex(_ value: UnsafeRawBufferPointer) -> Bool {
        for byte in value where byte == UInt8(ascii: "\"") || byte < 0x21 || byte >= 0x7F { return true }
        return false
    }

    static let hexDigits: StaticString = "0123456789ABCDEF"

    static func writeHex(_ bytes: UnsafeRawBufferPointer, to output: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let digits = hexDigits.utf8Start
        var cursor = output
        for byte in bytes {
            cursor[0] = digits[Int(byte >> 4)]
            cursor[1] = digits[Int(byte & 0x0F)]
            cursor += 2
        }
        return cursor
    }

    static func write(_ bytes: UnsafeRawBufferPointer, to output: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
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
