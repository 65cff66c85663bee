import AuditNetlink
import AuditProtocol
import Foundation
import Logging

/// What a test needs to use this machine's kernel safely: whether it can, its state, and a way to
/// put back what the test changed.
public enum RealKernel {
    /// Why a real-kernel test cannot run here, or nil when it can.
    public static func reasonToSkip() -> String? {
        if let reason = reasonNoLockHelps() { return reason }
        guard let status = try? status() else { return "the kernel does not answer AUDIT_GET (no audit support?)" }
        if status.pid != 0 { return "another audit daemon (pid \(status.pid)) holds the kernel's daemon slot" }
        if status.enabled == 2 { return "auditing is locked (enabled=2); rules cannot be changed" }
        return nil
    }

    /// What no amount of waiting changes: no root, no auditctl.
    static func reasonNoLockHelps() -> String? {
        if geteuid() != 0 { return "needs root (CAP_AUDIT_CONTROL) to register with the kernel" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/auditctl") {
            return "needs auditctl (apt-get install auditd)"
        }
        return nil
    }

    /// Runs `body` with this machine's kernel to itself: the kernel lock held, the daemon slot free,
    /// and `enabled` put back afterwards. Prints why and returns without running `body` when a
    /// real-kernel test cannot run here.
    ///
    /// Waiting for the lock suspends the test instead of blocking a thread: Swift Testing runs
    /// tests on the cooperative pool, as wide as the machine has cores (two in CI), and a test
    /// asleep on a pool thread would starve every other test.
    public static func withExclusiveUse(
        _ test: String, alsoSkipIf extraReason: () -> String? = { nil }, _ body: () throws -> Void
    ) async throws {
        if let reason = reasonNoLockHelps() ?? extraReason() { return print("SKIP \(test): \(reason)") }
        // Wait for the lock before looking at the daemon slot: a suite running in parallel may be
        // using the kernel now, and will have left it free when it lets the lock go.
        guard let lock = await KernelLock.acquire() else { return print("SKIP \(test): the kernel lock stayed taken") }
        defer { withExtendedLifetime(lock) {} }
        if let reason = reasonToSkip() { return print("SKIP \(test): \(reason)") }
        let before = try status()
        defer { restore(enabled: before.enabled) }
        try body()
    }

    /// The kernel's audit status, from a socket of the test's own.
    public static func status() throws -> AuditStatus {
        let client = AuditClient(socket: try AuditSocket.kernel(), logger: Logger(label: "RealKernel"))
        return try client.status()
    }

    /// Runs `auditctl` with `arguments`; throws with its output when it fails.
    @discardableResult
    public static func auditctl(_ arguments: [String]) throws -> String {
        let (status, output) = try shell("/usr/sbin/auditctl", arguments)
        guard status == 0 else { throw AuditctlError(arguments: arguments, output: output) }
        return output
    }

    /// Puts `enabled` back as it was; call in a `defer` after a test that started a daemon.
    public static func restore(enabled: UInt32) {
        guard let now = try? status(), now.enabled != enabled, now.enabled != 2, enabled != 2 else { return }
        _ = try? shell("/usr/sbin/auditctl", ["-e", "\(enabled)"])
    }

    public struct AuditctlError: Error, CustomStringConvertible {
        public let arguments: [String]
        public let output: String
        public var description: String { "auditctl \(arguments.joined(separator: " ")) failed: \(output)" }
    }
}
