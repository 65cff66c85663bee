import AuditDaemon
import AuditLog
import AuditTestKit
import Foundation
import Logging
import Synchronization

/// Runs an `AuditDaemon` against a `FakeKernel` on a thread of its own, logging to a temporary
/// directory, and lets a test stop it and read what it wrote.
final class DaemonHarness: Sendable {
    let kernel: FakeKernel
    let directory: TemporaryDirectory
    let control: DaemonControl
    private let outcome = Mutex<Result<AuditDaemon.Summary, AuditDaemonError>?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    static let pid: UInt32 = 4242

    init(_ behaviour: FakeKernel.Behaviour = FakeKernel.Behaviour(), options: DaemonOptions = DaemonOptions(),
         commandLine: String = "BOOT_IMAGE=/vmlinuz audit=1") throws {
        kernel = try FakeKernel(behaviour)
        directory = try TemporaryDirectory()
        control = try DaemonControl()
        let daemon = AuditDaemon(
            configuration: AuditdConfiguration(logFile: directory.appending("log/audit.log"), logFormat: .raw),
            options: options, socket: kernel.daemonSocket, control: control,
            logger: Logger(label: "test"), processID: Self.pid,
            kernelCommandLine: KernelCommandLine(text: commandLine))
        // The daemon is handed to its thread and used only there.
        nonisolated(unsafe) let handedOver = daemon
        let thread = Thread { [self] in
            let result = Result { () throws(AuditDaemonError) in try handedOver.run() }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        thread.start()
    }

    /// Waits until the daemon has registered with the fake kernel.
    func waitUntilRegistered() -> Bool { kernel.wait { $0.isRegistered } }

    /// Sends `.stop` and waits for `run()` to return.
    @discardableResult
    func stop() throws -> AuditDaemon.Summary {
        control.send(.stop(reason: "test"))
        return try waitForExit()
    }

    /// Waits for `run()` to return on its own (an error, or the kernel closing its end).
    func waitForExit(timeout: TimeInterval = 20) throws -> AuditDaemon.Summary {
        guard finished.wait(timeout: .now() + timeout) == .success else { throw HarnessError.didNotStop }
        finished.signal()
        return try outcome.withLock { $0! }.get()
    }

    func logLines() throws -> [String] { try directory.lines(of: "log/audit.log") }

    /// Waits until the log has `count` lines (records reach the disk within the batch window).
    func waitForLines(_ count: Int, timeout: TimeInterval = 10) -> [String] {
        let deadline = Date() + timeout
        var lines: [String] = []
        while Date() < deadline {
            lines = (try? logLines()) ?? []
            if lines.count >= count { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return lines
    }

    func cleanUp() { directory.remove() }

    enum HarnessError: Error { case didNotStop }
}
