import CLibwrap
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// tcp_wrappers' verdict on a client, as auditd asks for it (`auditd_tcpd_check`,
/// src/auditd-listen.c): daemon name `auditd`, the client's address and, when its address
/// resolves, its host name. Blocking (a name lookup, two files read): run off the event loop.
enum HostsAccess {
    /// libwrap's tables are process-wide globals: one check at a time.
    private static let lock = NIOLockedValueBox(())

    static func allows(_ address: SocketAddress, allowTable: String, denyTable: String) -> Bool {
        let text = address.ipAddress ?? "unknown"
        let name = hostName(of: address)
        return lock.withLockedValue { _ in
            allowTable.withCString { allow in
                denyTable.withCString { deny in
                    swift_auditd_set_hosts_tables(allow, deny)
                    return swift_auditd_hosts_allowed("auditd", name, text) != 0
                }
            }
        }
    }

    /// The client's host name from a reverse lookup, or nil (libwrap's `unknown`).
    private static func hostName(of address: SocketAddress) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = address.withSockAddr { pointer, length in
            getnameinfo(pointer, socklen_t(length), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
        }
        guard status == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
