import AuditSystem
import Foundation

/// The machine-wide lock for the kernel's one audit daemon slot and one rule list.
///
/// Every test, benchmark or script that registers with the real kernel, loads rules or changes
/// `enabled` holds it (`flock /tmp/swift-auditd-kernel.lock` from a shell), so test runs and
/// benchmarks in other processes never step on each other.
public final class KernelLock {
    public static let path = "/tmp/swift-auditd-kernel.lock"
    /// How long a test waits for the lock: well inside every real-kernel suite's time limit
    /// (3 minutes a test), so a taken lock ends the test with its reason, not a time-out.
    public static let wait: Duration = .seconds(90)
    private let descriptor: Descriptor

    /// Takes the lock if it is free now; nil when someone else holds it.
    init?() {
        guard let file = Descriptor.open(Self.path, O_RDWR | O_CREAT, mode: 0o666),
              flock(file.rawValue, LOCK_EX | LOCK_NB) == 0 else { return nil }
        descriptor = file
    }

    /// Waits up to `timeout` for the lock without blocking a thread; nil when it stayed taken.
    public static func acquire(timeout: Duration = wait) async -> KernelLock? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let lock = KernelLock() { return lock }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Closing the descriptor lets the lock go.
    deinit { flock(descriptor.rawValue, LOCK_UN) }
}
