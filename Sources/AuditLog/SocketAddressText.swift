#if canImport(Glibc)
import Glibc
#endif

/// The `SADDR={ … }` text of a `saddr=` field: the kernel's hex dump of a socket address, decoded
/// as auparse 3.0.9 does (`auparse/interpret.c: print_sockaddr`, `au_unescape`).
///
/// Quirks kept on purpose, each seen in Debian's libauparse 3.0.9 (see the golden probes):
/// - the address length is half the field's length, even when a non-hex byte stops the decoding;
///   the bytes past the decoded ones read as zero, an odd last digit as its high nibble;
/// - `(…)` is taken as literal bytes, so `(null)` is family 28200; fewer than two hex digits is
///   `malformed-host(…)`;
/// - families by number from auparse's table (`famtab.h`), `unknown-family(N)` otherwise;
///   `(unsupported)` for a known family it does not decode (ipx and later ones included);
/// - inet and inet6 go through `getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV)`;
/// - an unnamed unix address (the family alone) is `sockaddr len too short`; an abstract one is
///   printed from its second byte; ax25 text stops at the first NUL, closing brace included.
enum SocketAddressText {
    /// How many decoded bytes any family looks at (local: 3 + 108).
    static let window = 128

    static func append(_ value: UnsafeRawBufferPointer, to sink: inout TextSink) {
        let length = value.count / 2
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: window) { raw in
            let bytes = raw.baseAddress!
            bytes.initialize(repeating: 0, count: window)
            guard decode(value, into: bytes) else {
                sink.append("malformed-host(")
                sink.append(value)
                sink.append(")")
                return
            }
            let family = Int(bytes[0]) | Int(bytes[1]) << 8
            guard let name = familyName(family) else {
                sink.append("unknown-family(")
                sink.append(decimal: Int64(family))
                sink.append(")")
                return
            }
            sink.append("{ saddr_fam=")
            sink.append(name)
            switch family {
            case 1:  // AF_LOCAL
                guard length >= 4 else { return sink.append(" sockaddr len too short }") }
                sink.append(" path=")
                appendString(bytes + (bytes[2] != 0 ? 2 : 3), limit: 108, to: &sink)
                sink.append(" }")
            case 2:  // AF_INET
                guard length >= MemoryLayout<sockaddr_in>.size else { return sink.append(" sockaddr len too short }") }
                appendNumeric(bytes, length: MemoryLayout<sockaddr_in>.size, to: &sink)
            case 10:  // AF_INET6
                guard length >= MemoryLayout<sockaddr_in6>.size else { return sink.append(" sockaddr6 len too short }") }
                appendNumeric(bytes, length: MemoryLayout<sockaddr_in6>.size, to: &sink)
            case 3:  // AF_AX25
                // `call=%c%c%c%c%c%c%c`; auditd keeps the text up to the first NUL.
                sink.append(" call=")
                for index in 2..<9 {
                    guard bytes[index] != 0 else { return }
                    sink.append(bytes[index])
                }
                sink.append(" }")
            case 8:  // AF_ATMPVC
                // struct sockaddr_atmpvc: sap_addr is 4-byte aligned, its itf first.
                sink.append(" int=")
                sink.append(decimal: Int64(Int16(bitPattern: UInt16(bytes[4]) | UInt16(bytes[5]) << 8)))
                sink.append(" }")
            case 9:  // AF_X25
                sink.append(" laddr=")
                appendString(bytes + 2, limit: 15, to: &sink)
                sink.append(" }")
            case 16:  // AF_NETLINK
                // sizeof(struct sockaddr_nl) is 12.
                guard length >= 12 else { return sink.append(" len too short }") }
                sink.append(" nlnk-fam=")
                sink.append(decimal: UInt64(family))
                sink.append(" nlnk-pid=")
                let pid = UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24
                sink.append(decimal: UInt64(pid))
                sink.append(" }")
            default:
                sink.append(" (unsupported) }")
            }
        }
    }

    /// auparse's `au_unescape` into `window` zeroed bytes; false where it gives up.
    private static func decode(_ value: UnsafeRawBufferPointer, into bytes: UnsafeMutablePointer<UInt8>) -> Bool {
        if value.first == UInt8(ascii: "(") {
            guard let close = value.firstIndex(of: UInt8(ascii: ")")) else { return false }
            for index in 0..<min(close + 1, window) { bytes[index] = value[index] }
            return true
        }
        var digits = 0
        while digits < value.count, hexValue(value[digits]) != nil { digits += 1 }
        guard digits >= 2 else { return false }
        for index in 0..<min(digits, 2 * window) {
            let nibble = hexValue(value[index])!
            bytes[index / 2] |= index % 2 == 0 ? nibble << 4 : nibble
        }
        return true
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `%.Ns`: up to `limit` bytes, stopping at a NUL.
    private static func appendString(_ start: UnsafeMutablePointer<UInt8>, limit: Int, to sink: inout TextSink) {
        var index = 0
        while index < limit, start[index] != 0 {
            sink.append(start[index])
            index += 1
        }
    }

    /// ` laddr=HOST lport=PORT }` as auparse gets them from `getnameinfo(NI_NUMERICHOST |
    /// NI_NUMERICSERV)`. glibc's getnameinfo allocates on every call, so the text is made here the
    /// way it makes it (`inet_ntop`, the port in decimal); only an inet6 address with a scope id,
    /// which getnameinfo may name after an interface, goes to getnameinfo itself.
    private static func appendNumeric(_ bytes: UnsafeMutablePointer<UInt8>, length: Int, to sink: inout TextSink) {
        let isInet6 = length == MemoryLayout<sockaddr_in6>.size
        let scope = UInt32(bytes[24]) | UInt32(bytes[25]) << 8 | UInt32(bytes[26]) << 16 | UInt32(bytes[27]) << 24
        if !isInet6 || scope == 0 {
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text in
                let host = text.baseAddress!
                let family = isInet6 ? AF_INET6 : AF_INET
                guard inet_ntop(family, bytes + (isInet6 ? 8 : 4), host, 64) != nil else {
                    return sink.append(" (error resolving addr) }")
                }
                sink.append(" laddr=")
                sink.append(UnsafeRawBufferPointer(start: host, count: strlen(host)))
                sink.append(" lport=")
                sink.append(decimal: UInt64(UInt16(bytes[2]) << 8 | UInt16(bytes[3])))
                sink.append(" }")
            }
            return
        }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(NI_MAXHOST) + 32) { text in
            let host = text.baseAddress!, service = host + Int(NI_MAXHOST)
            let code = bytes.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getnameinfo(address, socklen_t(length), host, socklen_t(NI_MAXHOST), service, 32,
                            NI_NUMERICHOST | NI_NUMERICSERV)
            }
            guard code == 0 else { return sink.append(" (error resolving addr) }") }
            sink.append(" laddr=")
            sink.append(UnsafeRawBufferPointer(start: host, count: strlen(host)))
            sink.append(" lport=")
            sink.append(UnsafeRawBufferPointer(start: service, count: strlen(service)))
            sink.append(" }")
        }
    }

    /// auparse 3.0.9's socket family names (`auparse/famtab.h`), by number.
    private static func familyName(_ family: Int) -> StaticString? {
        switch family {
        case 1: "local"
        case 2: "inet"
        case 3: "ax25"
        case 4: "ipx"
        case 5: "appletalk"
        case 6: "netrom"
        case 7: "bridge"
        case 8: "atmpvc"
        case 9: "x25"
        case 10: "inet6"
        case 11: "rose"
        case 12: "decnet"
        case 13: "netbeui"
        case 14: "security"
        case 15: "key"
        case 16: "netlink"
        case 17: "packet"
        case 18: "ash"
        case 19: "econet"
        case 20: "atmsvc"
        case 21: "rds"
        case 22: "sna"
        case 23: "irda"
        case 24: "pppox"
        case 25: "wanpipe"
        case 26: "llc"
        case 29: "can"
        case 30: "tipc"
        case 31: "bluetooth"
        case 32: "iucv"
        case 33: "rxrpc"
        case 34: "isdn"
        case 35: "phonet"
        case 36: "ieee802154"
        case 37: "caif"
        case 38: "alg"
        case 39: "nfc"
        case 40: "vsock"
        case 41: "kcm"
        case 42: "qipcrtr"
        case 43: "smc"
        case 44: "xdp"
        default: nil
        }
    }
}
