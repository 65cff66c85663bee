import Foundation
import Testing

/// What a test needs from the machine that it cannot bring itself (root, a tool, a free daemon
/// slot), and what happens when it is missing.
///
/// Outside CI such a test is cancelled (Swift Testing reports it as skipped, with the reason) and
/// `make test` counts it at the end. In CI (`CI=true`, or `SWIFT_AUDITD_REQUIRE_ALL=1`, which
/// `.ci/run` sets) it fails instead, naming what was missing: a proof that silently skips is no
/// proof, and a machine missing a dependency of the tests is a broken install step.
public enum Requirement {
    /// Whether a missing requirement fails the test instead of skipping it.
    public static var isStrict: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["SWIFT_AUDITD_REQUIRE_ALL"] == "1" || environment["CI"] == "true"
    }

    /// Ends the test at once because `reason` keeps it from running here: skipped, or failed in CI.
    public static func unmet(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Never {
        if isStrict {
            // The issue fails the test; the cancellation only ends it where it could not go on.
            Issue.record("cannot run here, and CI requires every test to run: \(reason)", sourceLocation: sourceLocation)
            try Test.cancel("cannot run: \(reason)", sourceLocation: sourceLocation)
        }
        try Test.cancel("SKIP: \(reason)", sourceLocation: sourceLocation)
    }

    /// Ends the test (as `unmet`) when `reason` is not nil.
    public static func check(_ reason: String?, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if let reason { try unmet(reason, sourceLocation: sourceLocation) }
    }

    /// Why a test that needs root cannot run, or nil.
    public static var root: String? { geteuid() == 0 ? nil : "needs root" }

    /// Why a test needing `path` (installed by `package`) cannot run, or nil.
    public static func executable(_ path: String, package: String) -> String? {
        FileManager.default.isExecutableFile(atPath: path) ? nil : "needs \(path) (apt-get install \(package); make deps installs it)"
    }

    /// Why a test needing the built `swift-auditd` cannot run, or nil.
    public static func daemonBinary(_ path: String = DaemonProcess.executablePath) -> String? {
        FileManager.default.isExecutableFile(atPath: path) ? nil : "the swift-auditd executable is not built at \(path)"
    }
}
