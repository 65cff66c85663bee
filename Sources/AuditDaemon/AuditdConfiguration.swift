import AuditLog
#if canImport(Glibc)
import Glibc
#endif

/// The settings swift-auditd takes from `auditd.conf`, the file auditd itself reads.
///
/// The syntax is auditd's (`src/auditd-config.c`): one `keyword = value` per line, tokens split on
/// spaces, whole-line `#` comments, keywords and values case-insensitive.
public struct AuditdConfiguration: Sendable, Equatable {
    public static let defaultLogFile = "/var/log/audit/audit.log"

    public var logFile: String = defaultLogFile
    public var logFormat: LogFormat = .enriched
    /// How much to raise the daemon's scheduling priority (`nice(-priority_boost)`); auditd's default is 4.
    public var priorityBoost: Int32 = 4

    public init(logFile: String = defaultLogFile, logFormat: LogFormat = .enriched) {
        self.logFile = logFile
        self.logFormat = logFormat
    }

    /// Reads `DIRECTORY/auditd.conf`. A missing file gives the compiled-in defaults, as auditd.
    public static func load(directory: String) throws(AuditDaemonError) -> (AuditdConfiguration, found: Bool) {
        let path = directory.hasSuffix("/") ? directory + "auditd.conf" : directory + "/auditd.conf"
        guard let text = try readFile(path) else { return (AuditdConfiguration(), false) }
        return (try parse(text, path: path), true)
    }

    /// Parses the text of an auditd.conf; `path` names the file in errors.
    public static func parse(_ text: String, path: String) throws(AuditDaemonError) -> AuditdConfiguration {
        var configuration = AuditdConfiguration()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let tokens = line.split(separator: " ")
            guard let first = tokens.first, !first.hasPrefix("#") else { continue }
            guard tokens.count >= 3, tokens[1] == "=" else {
                throw AuditDaemonError(.configuration, "\(path):\(lineNumber): wrong number of arguments; expected 'keyword = value'")
            }
            let value = tokens[2...].joined(separator: " ")
            switch first.lowercased() {
            case "log_file":
                configuration.logFile = String(value)
            case "log_format":
                guard let format = LogFormat(rawValue: value.lowercased()) else {
                    throw AuditDaemonError(.configuration, "\(path):\(lineNumber): log_format must be RAW or ENRICHED, not \(value)")
                }
                configuration.logFormat = format
            case "priority_boost":
                guard let boost = Int32(value), (0...20).contains(boost) else {
                    throw AuditDaemonError(.configuration, "\(path):\(lineNumber): priority_boost must be a number from 0 to 20, not \(value)")
                }
                configuration.priorityBoost = boost
            default:
                continue
            }
        }
        return configuration
    }

    /// The whole file, or nil when it does not exist.
    static func readFile(_ path: String) throws(AuditDaemonError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw AuditDaemonError(.configuration, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw AuditDaemonError(.configuration, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
