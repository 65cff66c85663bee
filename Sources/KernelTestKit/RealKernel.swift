import AuditNetlink
import AuditProtocol
import AuditTestKit
import Foundation
import Logging
import Testing

/// What a test needs to use this machine's kernel safely: whether it can, its state, and a way to
/// put back what the test changed.
public enum RealKernel {
    /// Why a real-kernel test cannot run here, or nil when it can.
    public static func reasonItCannotRun() -> String? {
        guard let status = try? status() else { return "the kernel does not answer AUDIT_GET (no audit support?)" }
        if status.pid != 0 { return "another audit daemon (pid \(status.pid)) holds the kernel's daemon slot" }
        if status.enabled == 2 { return "auditing is locked (enabled=2); rules cannot be changed" }
        return nil
    }

    /// What no amount of waiting changes: no root, no auditctl.
    static func reasonNoLockHelps() -> String? {
        Requirement.root.map { "\($0) (CAP_AUDIT_CONTROL) to register with the kernel" }
            ?? Requirement.executable("/usr/sbin/auditctl", package: "auditd")
    }

    /// Runs `body` with this machine's kernel to itself: the kernel lock held, the daemon slot free,
    /// and `enabled` put back afterwards. When a real-kernel test cannot run here, it ends the test
    /// through `Requirement` (skipped, or failed in CI) saying why.
    ///
    /// Waiting for the lock suspends the test instead of blocking a thread: Swift Testing runs
    /// tests on the cooperative pool, as wide as the machine has cores (two in CI), and a test
    /// asleep on a pool thread would starve every other test. This process's own real-kernel tests
    /// run one at a time (`RealKernelSuite` is serialized), so the lock is only ever waited for
    /// while another process (a benchmark, a second test run) uses the kernel.
    public static func withExclusiveUse(
        requiring extraReason: () -> String? = { nil }, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) async throws {
        try Requirement.check(reasonNoLockHelps() ?? extraReason(), sourceLocation: sourceLocation)
        guard let lock = await KernelLock.acquire() else {
            try Requirement.unmet("the kernel lock \(KernelLock.path) stayed taken for \(KernelLock.wait) (another test run or make bench?)",
                                  sourceLocation: sourceLocation)
        }
        defer { withExtendedLifetime(lock) {} }
        try Requirement.check(reasonItCannotRun(), sourceLocation: sourceLocation)
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

    /// Waits until the kernel names `pid` as its audit daemon (false if `process` ends first).
    public static func waitUntilRegistered(_ daemon: DaemonProcess, timeout: Duration = .seconds(10)) -> Bool {
        eventually(timeout: timeout) {
            (try? status())?.pid == UInt32(daemon.pid) || !daemon.process.isRunning
        } && daemon.process.isRunning
    }

    public struct AuditctlError: Error, CustomStringConvertible {
        public let arguments: [String]
        public let output: String
        public var description: String { "auditctl \(arguments.joined(separator: " ")) failed: \(output)" }
    }
}
