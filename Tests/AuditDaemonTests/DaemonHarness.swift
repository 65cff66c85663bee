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

    /// The first serial and the time of the daemon's own records, fixed so tests see exact lines.
    static let stamp = "audit(1700000100.007:500)"

    /// - Parameters:
    ///   - keepsRunDirectory: give the daemon a run directory (PID file, state report) under `run/`.
    ///   - notifyAddress: the socket systemd notifications go to, or nil for none.
    ///   - settings: more auditd.conf lines; the daemon starts on the file they end up in.
    ///   - systemActions: what `exec`, `single` and `halt` run; tests pass one that records.
    ///   - logger: where the daemon's diagnostics go; tests that check them pass a `CapturedLog`'s.
    init(_ behaviour: FakeKernel.Behaviour = FakeKernel.Behaviour(), options: DaemonOptions = DaemonOptions(),
         commandLine: String = "BOOT_IMAGE=/vmlinuz audit=1", keepsRunDirectory: Bool = false,
         notifyAddress: String? = nil, logFormat: LogFormat = .raw, enricher: RecordEnricher? = nil,
         settings: String = "", systemActions: (any SystemActions)? = nil,
         logger: Logger = Logger(label: "test")) throws {
        kernel = try FakeKernel(behaviour)
        directory = try TemporaryDirectory()
        control = try DaemonControl()
        // The daemon reads auditd.conf from the directory again on a reload.
        // num_logs as Debian's auditd.conf ships it: with auditd's compiled default (0) SIGUSR1 does not rotate.
        let text = "log_file = \(directory.appending("log/audit.log"))\nlog_format = \(logFormat.rawValue.uppercased())\nnum_logs = 5\n"
            + settings
        try directory.write(text, to: "auditd.conf")
        var options = options
        options.configurationDirectory = directory.path
        if keepsRunDirectory { options.runDirectory = RunDirectory(directory.appending("run")) }
        let configuration = try AuditdConfiguration.parse(text, path: directory.appending("auditd.conf"))
        let daemon = AuditDaemon(
            configuration: configuration,
            options: options, socket: kernel.daemonSocket, control: control,
            logger: logger, processID: Self.pid,
            kernelCommandLine: KernelCommandLine(text: commandLine),
            notifier: SystemdNotifier(address: notifyAddress, logger: logger),
            stamper: DaemonRecordStamper(firstSerial: 500, clock: { (1_700_000_100, 7) }),
            enricher: enricher, systemActions: systemActions ?? SystemCommands())
        // The daemon is handed to its thread and used only there.
        nonisolated(unsafe) let handedOver = daemon
        let thread = Thread { [self] in
            let result = Result { () throws(AuditDaemonError) in try handedOver.run() }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        thread.start()
    }

    /// The daemon's own record as written: `type=NAME msg=audit(…:SERIAL): TEXT`.
    static func daemonLine(_ name: String, serial: Int, _ text: String) -> String {
        "type=\(name) msg=audit(1700000100.007:\(serial)): \(text)"
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
    func waitForExit(timeout: Duration = .seconds(20)) throws -> AuditDaemon.Summary {
        guard finished.wait(timeout: .now() + timeout.seconds) == .success else { throw HarnessError.didNotStop }
        finished.signal()
        return try outcome.withLock { $0! }.get()
    }

    func logLines() throws -> [String] { try directory.lines(of: "log/audit.log") }

    /// Waits until `name` under the directory has a line for which `condition` holds.
    func waitForLine(in name: String = "log/audit.log", where condition: (String) -> Bool) -> [String] {
        var lines: [String] = []
        eventually {
            lines = (try? directory.lines(of: name)) ?? []
            return lines.contains(where: condition)
        }
        return lines
    }

    /// Waits until the log has `count` lines.
    func waitForLines(_ count: Int) -> [String] {
        var lines: [String] = []
        eventually {
            lines = (try? logLines()) ?? []
            return lines.count >= count
        }
        return lines
    }

    func cleanUp() { directory.remove() }

    enum HarnessError: Error { case didNotStop }
}
