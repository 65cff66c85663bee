import Foundation

/// The machine-wide lock for the kernel's one audit daemon slot and one rule list.
///
/// Every test, benchmark or script that registers with the real kernel, loads rules or changes
/// `enabled` holds it (`flock /tmp/swift-auditd-kernel.lock` from a shell), so suites running in
/// parallel, in this process or another, never step on each other.
public final class KernelLock {
    public static let path = "/tmp/swift-auditd-kernel.lock"
    private let descriptor: Int32

    /// Waits up to `timeout` for the lock; nil when someone else held it all that time.
    public init?(timeout: Duration = .seconds(240)) {
        let fd = open(Self.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { return nil }
        let deadline = ContinuousClock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard ContinuousClock.now < deadline else {
                Glibc.close(fd)
                return nil
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        descriptor = fd
    }

    /// Waits up to `timeout` for the lock without blocking a thread; nil when it stayed taken.
    public static func acquire(timeout: Duration = .seconds(240)) async -> KernelLock? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let lock = KernelLock(timeout: .zero) { return lock }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        Glibc.close(descriptor)
    }
}
