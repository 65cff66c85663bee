import AuditLog
import Foundation

/// The golden logs Debian's auditd 3.0.9 wrote on the project machine (auditd-3.0.9/ beside this
/// file, whose README says how), read back into the records auditd received and the lines it wrote
/// for them. They are this target's resources, copied beside the built tests, so the tests read
/// them wherever the build is, not from the source tree.
public enum AuditdGoldenLog {
    public static let directory: String = {
        guard let url = Bundle.module.url(forResource: "auditd-3.0.9", withExtension: nil) else {
            preconditionFailure("the auditd-3.0.9 resources are not in \(Bundle.module.bundlePath): the build did not copy them")
        }
        return url.path
    }()

    /// One line of a log: the record it was made from, and the line as auditd wrote it.
    public struct Line: Sendable {
        public let number: Int
        /// The `node=` name auditd wrote in front, if any.
        public let node: String?
        public let type: UInt16
        public let typeName: String
        /// The kernel's text as it reached auditd (what came after `msg=`, up to any 0x1D).
        public let payload: [UInt8]
        /// The line, without its newline.
        public let expected: [UInt8]

        public var text: String { String(decoding: expected, as: UTF8.self) }
        public var payloadText: String { String(decoding: payload, as: UTF8.self) }
        /// Written by auditd itself (DAEMON_START, DAEMON_END, ...), not by the kernel.
        public var isDaemonRecord: Bool { (1200...1299).contains(type) }
    }

    public enum GoldenLogError: Error { case missing(String), malformed(String, Int) }

    public static func bytes(_ name: String) throws -> [UInt8] {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else { throw GoldenLogError.missing(path) }
        return [UInt8](data)
    }

    /// The lines of a log, each turned back into its record: `[node=N ]type=NAME msg=` stripped,
    /// the type number from libaudit's table, the payload up to the enrichment's 0x1D.
    public static func lines(_ name: String) throws -> [Line] {
        let all = try bytes(name).split(separator: 0x0A, omittingEmptySubsequences: true)
        return try all.enumerated().map { index, slice in
            let line = Array(slice)
            var rest = line[...]
            var node: String?
            if rest.starts(with: Array("node=".utf8)), let space = rest.firstIndex(of: 0x20) {
                node = String(decoding: rest[(rest.startIndex + 5)..<space], as: UTF8.self)
                rest = rest[(space + 1)...]
            }
            guard rest.starts(with: Array("type=".utf8)), let space = rest.firstIndex(of: 0x20) else {
                throw GoldenLogError.malformed(name, index + 1)
            }
            let typeName = String(decoding: rest[(rest.startIndex + 5)..<space], as: UTF8.self)
            guard let type = MessageTypeNames.type(named: typeName)?.rawValue else { throw GoldenLogError.malformed(name, index + 1) }
            var payload = rest[(space + 1)...]
            guard payload.starts(with: Array("msg=".utf8)) else { throw GoldenLogError.malformed(name, index + 1) }
            payload = payload.dropFirst(4)
            if let separator = payload.firstIndex(of: 0x1D) { payload = payload[..<separator] }
            return Line(number: index + 1, node: node, type: type, typeName: typeName, payload: Array(payload),
                        expected: line)
        }
    }

    /// `accounts.txt`: the uid and gid names of the machine the logs were made on.
    public static func accounts() throws -> FixtureAccounts {
        let text = String(decoding: try bytes("accounts.txt"), as: UTF8.self)
        let accounts = FixtureAccounts()
        for row in text.split(separator: "\n") where !row.hasPrefix("#") {
            let parts = row.split(separator: " ")
            guard parts.count == 3, let id = UInt32(parts[1]) else { continue }
            if parts[0] == "user" { accounts.setUser(id, String(parts[2])) } else { accounts.setGroup(id, String(parts[2])) }
        }
        return accounts
    }

    // MARK: - The fixture machine's account changes

    /// The workload added user and group 2345 `enrichtest` and deleted them again. The table
    /// follows what the machine held when auditd formatted each record: the group existed when
    /// the first ADD_GROUP was formatted, the user only after ADD_USER (useradd sends it before it
    /// commits /etc/passwd), and both were gone for DEL_USER and DEL_GROUP.
    ///
    /// The change to make to `accounts` before `line` is formatted, if any.
    public static func accountChange(before line: Line, in accounts: FixtureAccounts) -> (() -> Void)? {
        let text = line.payloadText
        if line.typeName == "ADD_GROUP", text.contains(" id=2345 "), accounts.group(2345) == nil {
            return { accounts.setGroup(2345, "enrichtest") }
        }
        if line.typeName == "DEL_USER", text.contains(" id=2345 "), accounts.user(2345) != nil {
            return { accounts.setUser(2345, nil) }
        }
        if line.typeName == "DEL_GROUP", text.contains("acct=\"enrichtest\""), accounts.group(2345) != nil {
            return { accounts.setGroup(2345, nil) }
        }
        return nil
    }

    /// The change to make to `accounts` after `line` is formatted, if any.
    public static func accountChange(after line: Line, in accounts: FixtureAccounts) -> (() -> Void)? {
        guard line.typeName == "ADD_USER", line.payloadText.contains(" id=2345 ") else { return nil }
        return { accounts.setUser(2345, "enrichtest") }
    }

    /// The record's stamp `audit(SEC.MS:SERIAL)` in milliseconds, 0 when it has none.
    public static func milliseconds(_ payload: [UInt8]) -> Int64 {
        let text = String(decoding: payload.prefix(40), as: UTF8.self)
        guard let open = text.firstIndex(of: "("), let colon = text.firstIndex(of: ":") else { return 0 }
        let parts = text[text.index(after: open)..<colon].split(separator: ".")
        guard parts.count == 2, let seconds = Int64(parts[0]), let millis = Int64(parts[1]) else { return 0 }
        return seconds * 1000 + millis
    }
}

/// An account database the test controls, counting how often it is asked. Safe to share with a
/// daemon's thread.
public final class FixtureAccounts: AccountDirectory, @unchecked Sendable {
    private let lock = NSLock()
    private var users: [UInt32: String] = [:]
    private var groups: [UInt32: String] = [:]
    private var asked = 0

    public init() {}

    /// How many times a name was asked for.
    public var questions: Int { lock.withLock { asked } }

    public func setUser(_ uid: UInt32, _ name: String?) { lock.withLock { users[uid] = name } }
    public func setGroup(_ gid: UInt32, _ name: String?) { lock.withLock { groups[gid] = name } }
    public func user(_ uid: UInt32) -> String? { lock.withLock { users[uid] } }
    public func group(_ gid: UInt32) -> String? { lock.withLock { groups[gid] } }

    public func userName(uid: UInt32) -> [UInt8]? {
        lock.withLock {
            asked += 1
            return users[uid].map { Array($0.utf8) }
        }
    }

    public func groupName(gid: UInt32) -> [UInt8]? {
        lock.withLock {
            asked += 1
            return groups[gid].map { Array($0.utf8) }
        }
    }
}
