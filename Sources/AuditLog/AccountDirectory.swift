#if canImport(Glibc)
import Glibc
#endif

/// Where the ENRICHED format gets user and group names: the system's account databases in the
/// daemon (`SystemAccountDirectory`), a fixed table in tests.
///
/// The formatter asks only on a cache miss (`AccountNameCache`), so an answer may allocate.
public protocol AccountDirectory: AnyObject {
    /// The name of user `uid`, or nil when there is no such user.
    func userName(uid: UInt32) -> [UInt8]?
    /// The name of group `gid`, or nil when there is no such group.
    func groupName(gid: UInt32) -> [UInt8]?
}

/// The system's user and group databases through NSS (`getpwuid_r`, `getgrgid_r`), as auparse's
/// `getpwuid`/`getgrgid`; a slow source (LDAP, SSSD) is asked only on a cache miss.
public final class SystemAccountDirectory: AccountDirectory {
    private var scratch: [CChar]

    public init() {
        let suggested = sysconf(Int32(_SC_GETPW_R_SIZE_MAX))
        scratch = [CChar](repeating: 0, count: suggested > 0 ? Int(suggested) : 1024)
    }

    public func userName(uid: UInt32) -> [UInt8]? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        return lookUp { buffer, size in getpwuid_r(uid, &entry, buffer, size, &result) } found: {
            guard let found = result?.pointee.pw_name else { return nil }
            return Self.bytes(found)
        }
    }

    public func groupName(gid: UInt32) -> [UInt8]? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        return lookUp { buffer, size in getgrgid_r(gid, &entry, buffer, size, &result) } found: {
            guard let found = result?.pointee.gr_name else { return nil }
            return Self.bytes(found)
        }
    }

    /// Runs a `get*_r` call, growing the scratch buffer while the entry does not fit (ERANGE).
    private func lookUp(_ call: (UnsafeMutablePointer<CChar>, Int) -> Int32, found: () -> [UInt8]?) -> [UInt8]? {
        while true {
            let code = scratch.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) }
            if code == ERANGE, scratch.count < 1 << 20 {
                scratch = [CChar](repeating: 0, count: scratch.count * 2)
                continue
            }
            return code == 0 ? found() : nil
        }
    }

    private static func bytes(_ string: UnsafePointer<CChar>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: string, count: strlen(string)))
    }
}
