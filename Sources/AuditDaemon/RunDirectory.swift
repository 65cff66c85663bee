#if canImport(Glibc)
import AuditSystem
import Glibc
#endif

/// The daemon's files under `/run`: the PID file and the state report.
///
/// auditd keeps `/run/audit/auditd.pid` (3.0.9: `/run/auditd.pid`) and `/run/audit/auditd.state`;
/// swift-auditd keeps `swift-auditd.pid` and `swift-auditd.state` in the same directory, so an
/// installed auditd's files are never mistaken for its own. The directory is made 0755 when
/// missing, as auditd does (the tmpfiles.d entry normally makes it first).
public struct RunDirectory: Sendable, Equatable {
    public static let defaultPath = "/run/audit"
    public let path: String

    public init(_ path: String = RunDirectory.defaultPath) { self.path = path }

    public var pidFile: String { path + "/swift-auditd.pid" }
    public var stateFile: String { path + "/swift-auditd.state" }

    /// Makes the directory when missing; refuses a symbolic link or a directory others can write.
    func prepare() throws(AuditDaemonError) {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT, Self.makeDirectories(path), lstat(path, &info) == 0 else {
                throw AuditDaemonError(.startFailure, "cannot create the run directory \(path): \(Errno(errno).description)")
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw AuditDaemonError(.startFailure, "run directory \(path) is not a directory (a symbolic link is refused too)")
        }
        guard info.st_mode & S_IWOTH == 0 else {
            throw AuditDaemonError(.startFailure, "run directory \(path) is writable by every user; refusing to keep the PID file there")
        }
    }

    /// `mkdir -p` with mode 0755 (an initramfs may not even have `/run`).
    private static func makeDirectories(_ path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { return false }
        }
        return true
    }

    // MARK: - PID file

    /// Writes `PID\n` (mode 0644, no symlink followed), as auditd before it registers.
    func writePIDFile(pid: Int32) throws(AuditDaemonError) {
        try write("\(pid)\n", to: pidFile, mode: 0o644)
    }

    /// The pid the PID file names, or nil.
    public func pidInPIDFile() -> Int32? {
        ProcFile.firstLine(pidFile).flatMap { Int32($0) }
    }

    /// Removes the PID file if it still names `pid` (another daemon may have written it since).
    func removePIDFile(ifNaming pid: Int32) {
        if pidInPIDFile() == pid { unlink(pidFile) }
    }

    // MARK: - State report

    /// Replaces the state report at once (a reader never sees half a file); mode 0640.
    func writeState(_ report: DaemonStateReport) throws(AuditDaemonError) {
        try write(report.rendered(), to: stateFile, mode: 0o640)
    }

    /// The last state report the daemon wrote, or nil when there is none.
    public func readState() -> DaemonStateReport? {
        guard let text = try? AuditdConfiguration.readFile(stateFile) else { return nil }
        return DaemonStateReport(parsing: text)
    }

    func removeState() { unlink(stateFile) }

    /// Writes `text` to a temporary name beside `target`, then renames it into place.
    private func write(_ text: String, to target: String, mode: mode_t) throws(AuditDaemonError) {
        try AtomicFile.replace(target, with: text, mode: mode)
    }
}
