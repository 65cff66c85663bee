import AuditTestKit
import Foundation

/// An exit rule on one system call for this test process only, with a key of its own, loaded with
/// `auditctl` and deleted by the test. On `getppid` each call is one event (SYSCALL, PROCTITLE, EOE).
public struct AuditRule: Sendable {
    public let syscall: String
    public let key: String

    public init(on syscall: String = "getppid", purpose: String = "proof") {
        self.syscall = syscall
        key = "swift-auditd-\(purpose)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    public var arguments: [String] { ["always,exit", "-F", "arch=b64", "-S", syscall, "-F", "pid=\(getpid())", "-k", key] }
    public func add() throws { try RealKernel.auditctl(["-a"] + arguments) }
    public func delete() { _ = try? shell("/usr/sbin/auditctl", ["-d"] + arguments) }

    /// SYSCALL lines of this rule in `path`, counted by grep (the file may be big, gone or immutable).
    public func syscallLines(in path: String) -> Int {
        // No end anchor: an ENRICHED line goes on after the key (0x1D, then the interpretations).
        let counted = try? shell("/bin/grep", ["-c", "^type=SYSCALL .* key=\"\(key)\"", path])
        return Int(counted?.output.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }
}
