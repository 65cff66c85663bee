import AuditNetlink
import AuditProtocol
import AuditTestKit
import Foundation
import KernelTestKit
import Testing

/// Every real-kernel suite is nested here, so they run one at a time in this process: the kernel
/// has one daemon slot and one rule list. The machine-wide kernel lock (`RealKernel.withExclusiveUse`)
/// keeps other processes (a second test run, `make bench`) out.
@Suite(.serialized) enum RealKernelSuite {}

extension DaemonProcess {
    /// Starts the daemon on this machine's kernel and waits until the kernel names it as its audit
    /// daemon; throws with its diagnostics when it does not register.
    static func registered(in directory: TemporaryDirectory, arguments: [String] = [],
                           diagnostics: String = "diagnostics.txt") throws -> DaemonProcess {
        let daemon = try DaemonProcess(directory: directory, arguments: arguments, diagnostics: diagnostics)
        try #require(RealKernel.waitUntilRegistered(daemon), "did not register; diagnostics: \(daemon.diagnostics)")
        return daemon
    }

    func clearDeadRegistration() { RealKernelTests.clearDeadRegistration(of: pid) }
}

/// A daemon killed with SIGKILL leaves the kernel believing it is registered until a send to its
/// dead socket fails: probe with user records until the kernel lets the slot go.
func clearDeadRegistration(of pid: Int32) {
    eventually(timeout: .seconds(2), interval: .milliseconds(50)) {
        guard let status = try? RealKernel.status(), status.pid == UInt32(pid) else { return true }
        try? sendUserRecords(["swift-auditd-test: probing a dead daemon's registration"])
        return false
    }
}

extension DaemonProcess {
    /// The usual start of a real-kernel test: auditd.conf (RAW, plus `extra`) written in
    /// `directory`, the daemon registered, and an audited thread proven against its log.
    static func registeredWithAuditedThread(in directory: TemporaryDirectory, extra: String = "", arguments: [String] = [])
        throws -> (logPath: String, daemon: DaemonProcess, thread: AuditedThread) {
        let logPath = try AuditdConf(in: directory, extra: extra).write(to: directory)
        let daemon = try registered(in: directory, arguments: arguments)
        return (logPath, daemon, try AuditedThread(provingWith: logPath))
    }

    /// The daemon's `NETLINK_AUDIT` socket as the kernel's netlink table shows it: its port id (the
    /// kernel sends records to this port, the one the registering socket is bound to) and how many
    /// datagrams the kernel dropped on it because its receive queue was full (each one an ENOBUFS
    /// for the reader). Read from /proc: the inodes of the process's sockets (`/proc/PID/fd`)
    /// matched against `/proc/PID/net/netlink` (sk, Eth (protocol), Pid (port id), Groups, Rmem,
    /// Wmem, Dump, Locks, Drops, Inode).
    func auditSocket() -> (port: UInt32, drops: Int)? {
        let fdDirectory = "/proc/\(pid)/fd"
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { return nil }
        var inodes = Set<String>()
        for descriptor in descriptors {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(descriptor)"),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        guard let table = try? String(contentsOfFile: "/proc/\(pid)/net/netlink", encoding: .utf8) else { return nil }
        for row in table.split(separator: "\n").dropFirst() {
            let fields = row.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 10, fields[1] == "9", inodes.contains(String(fields[9])),
                  let port = UInt32(fields[2]), let drops = Int(fields[8]) else { continue }
            return (port, drops)
        }
        return nil
    }
}

/// Sends `AUDIT_USER` records to the kernel, as `auditctl -m` does. The kernel makes these records
/// whatever the sending task's audit context, so any thread may send them.
func sendUserRecords(_ texts: [String]) throws {
    let socket = try AuditSocket.kernel()
    for (index, text) in texts.enumerated() {
        let request = NetlinkRequest(type: .user, sequence: UInt32(index + 1), wantsAck: false, payload: Array(text.utf8) + [0])
        try socket.send(request.bytes)
    }
}

/// The lines of a log file, and whether its last byte ends a line.
func readLog(_ path: String) throws -> (lines: [Substring], endsWithNewline: Bool, bytes: Int) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let text = String(decoding: data, as: UTF8.self)
    return (text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(data.last == 0x0A ? 1 : 0).map { $0 },
            data.last == 0x0A, data.count)
}

/// Whether a line starts as a whole RAW record line: `type=NAME msg=audit(SECONDS.MMM:SERIAL): …`.
func hasWholeStamp(_ line: Substring) -> Bool {
    guard line.hasPrefix("type="), let msg = line.range(of: " msg=audit(") else { return false }
    let rest = line[msg.upperBound...]
    guard let close = rest.firstIndex(of: ")"), rest[close...].hasPrefix("): ") else { return false }
    let stamp = rest[..<close].split(separator: ":")
    guard stamp.count == 2, stamp[1].allSatisfy(\.isNumber), !stamp[1].isEmpty else { return false }
    let time = stamp[0].split(separator: ".")
    return time.count == 2 && time[1].count == 3 && time.allSatisfy { $0.allSatisfy(\.isNumber) }
}

/// Whether a RAW line is whole: a whole stamp, and for the types these tests make, the last field
/// the kernel or the daemon always ends them with. A line cut anywhere after its stamp fails.
func isWholeRecordLine(_ line: Substring) -> Bool {
    guard hasWholeStamp(line) else { return false }
    if line.hasPrefix("type=SYSCALL ") {
        // The kernel ends every SYSCALL record with its key: key="…" or key=(null).
        if line.hasSuffix(" key=(null)") { return true }
        guard let key = line.range(of: " key=\"", options: .backwards) else { return false }
        return line.hasSuffix("\"") && line[key.upperBound...].dropLast().allSatisfy { $0 != "\"" }
    }
    if line.hasPrefix("type=PROCTITLE ") {
        guard let value = line.range(of: " proctitle=") else { return false }
        let text = line[value.upperBound...]
        return (!text.isEmpty && text.allSatisfy(\.isHexDigit) && text.count % 2 == 0)
            || (text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\""))
    }
    if line.hasPrefix("type=CONFIG_CHANGE ") { return line.hasSuffix(" res=1") || line.hasSuffix(" res=0") }
    if line.hasPrefix("type=DAEMON_") { return line.hasSuffix(" res=success") || line.hasSuffix(" res=failed") }
    return true
}
