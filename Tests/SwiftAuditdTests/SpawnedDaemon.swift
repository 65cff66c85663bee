import AuditDaemon
import AuditProtocol
import AuditTestKit
import Foundation

/// The real `swift-auditd` executable on a `FakeKernel`: a `DaemonProcess` with the fake kernel's
/// end of the socket pair as its standard input (`run --kernel-fd 0`), in a directory of its own
/// that goes with it, so a test can send it real signals and read what it wrote. No root needed.
extension DaemonProcess {
    /// What the fake kernel answers to `AUDIT_SIGNAL_INFO` unless a test says otherwise: this test
    /// process, which is the one sending the signals.
    static var testProcessSender: SignalInfo { SignalInfo(uid: 0, pid: getpid()) }

    /// Starts the executable on a new fake kernel behaving as `behaviour`, on `configuration` (or
    /// the tests' auditd.conf plus `extraConfiguration`).
    static func spawned(_ behaviour: FakeKernel.Behaviour? = nil, arguments: [String] = [],
                        environment: [String: String] = [:], configuration: String? = nil,
                        extraConfiguration: String = "") throws -> DaemonProcess {
        var behaviour = behaviour ?? FakeKernel.Behaviour()
        if behaviour.signalInfo == nil { behaviour.signalInfo = testProcessSender }
        let directory = try TemporaryDirectory("swift-auditd-spawned")
        let conf = AuditdConf(in: directory, extra: extraConfiguration)
        try directory.write(configuration ?? conf.text, to: "auditd.conf")
        return try DaemonProcess(directory: directory, kernel: try FakeKernel(behaviour), arguments: arguments,
                                 environment: environment, removesDirectory: true)
    }

    /// The fake kernel the daemon was spawned on.
    var kernel: FakeKernel { fakeKernel! }
    var run: RunDirectory { RunDirectory(runDirectory) }
    var logPath: String { directory.appending("log/audit.log") }

    /// Waits until the fake kernel has the child registered.
    func waitUntilRegistered() -> Bool {
        kernel.wait { $0.isRegistered && $0.status.pid == UInt32(pid) }
    }
}

/// Runs the executable with `arguments` (a control command), optionally with a fake kernel's
/// socket as standard input; returns its exit status and output.
func runCommand(_ arguments: [String], kernel: FakeKernel? = nil) throws -> (status: Int32, output: String) {
    try shell(builtDaemonPath(), arguments, input: kernel?.daemonSocket.descriptor)
}
