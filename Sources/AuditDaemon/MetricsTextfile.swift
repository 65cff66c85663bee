import AuditSystem
#if canImport(Glibc)
import Glibc
#endif

/// The file the daemon keeps for node_exporter's textfile collector (`metrics_textfile` in
/// swift-auditd.conf): the Prometheus exposition of its state, replaced at once every
/// `metrics_interval` seconds (written beside it as `NAME.prom.tmp`, which the collector ignores,
/// then renamed), between batches on the record loop's thread, so a scrape never sees half a file
/// and a record never waits for a scrape. Mode 0644: node_exporter runs as its own user.
final class MetricsTextfile {
    let path: String
    /// Rewrites that failed in a row, so a full disk is reported without flooding the journal.
    private(set) var failures: UInt64 = 0

    init(path: String) { self.path = path }

    /// Writes `report`'s exposition. Returns the error when this failure should be reported (the
    /// first few in a row, then every power of two), nil otherwise.
    func write(_ report: DaemonStateReport) -> AuditDaemonError? {
        do {
            try AtomicFile.replace(path, with: PrometheusExposition.render(report), mode: 0o644, temporarySuffix: ".tmp")
            failures = 0
            return nil
        } catch {
            failures += 1
            return failures <= 3 || failures & (failures - 1) == 0 ? error : nil
        }
    }

    /// Removes the file when the daemon stops, so node_exporter does not serve a stopped daemon's
    /// figures as if it were running (its own `node_textfile_mtime_seconds` would go stale too).
    func remove() { unlink(path) }
}

/// A file replaced in one step: the text is written to a temporary name beside it, then renamed
/// into place, so a reader sees the old file or the new one, never half of one.
enum AtomicFile {
    static func replace(_ target: String, with text: String, mode: mode_t, temporarySuffix: String = ".new") throws(AuditDaemonError) {
        let temporary = target + temporarySuffix
        unlink(temporary)
        let bytes = Array(text.utf8)
        let (written, code): (Int, Int32)
        do {
            guard let file = Descriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode) else {
                throw AuditDaemonError(.startFailure, "cannot create \(temporary): \(Errno(errno).description)")
            }
            written = bytes.withUnsafeBytes { Glibc.write(file.rawValue, $0.baseAddress, $0.count) }
            code = errno
            _ = fchmod(file.rawValue, mode)  // the umask must not decide who may read it
        }  // closed here, before the rename
        guard written == bytes.count else {
            unlink(temporary)
            throw AuditDaemonError(.startFailure, "cannot write \(temporary): \(Errno(written < 0 ? code : ENOSPC).description)")
        }
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw AuditDaemonError(.startFailure, "cannot rename \(temporary) to \(target): \(Errno(code).description)")
        }
    }
}
