/// `swift-auditd.conf`: swift-auditd's own settings, beside auditd.conf in the configuration
/// directory (`-c`, `/etc/audit` by default).
///
/// Kept out of auditd.conf because ausearch, aureport and auditctl read that file too and refuse a
/// keyword they do not know. Same syntax (`key = value`, `#` comments), checked as strictly: an
/// unknown key or a bad value stops the daemon with `FILE:LINE: ...` and exit status 6. A missing
/// file means every default. Read at start.
public struct SwiftAuditdSettings: Sendable, Equatable {
    public static let fileName = "swift-auditd.conf"

    /// Where the daemon keeps a file for node_exporter's textfile collector; nil: no file.
    public var metricsTextfile: String?
    /// Seconds between rewrites of the textfile.
    public var metricsInterval: Int = 5

    public init() {}

    /// The settings in `directory/swift-auditd.conf`, or the defaults when there is none.
    public static func read(directory: String) throws(AuditDaemonError) -> SwiftAuditdSettings {
        let path = directory + "/" + fileName
        guard let text = try AuditdConfiguration.readFile(path) else { return SwiftAuditdSettings() }
        return try SwiftAuditdSettings(parsing: text, path: path)
    }

    public init(parsing text: String, path: String) throws(AuditDaemonError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func failure(_ message: String) -> AuditDaemonError {
                AuditDaemonError(.configuration, "\(path):\(number): \(message)")
            }
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else { throw failure("expected 'key = value', found \"\(line)\"") }
            let key = line[..<equals].trimmingBlanks()
            let value = line[line.index(after: equals)...].trimmingBlanks()
            guard !value.isEmpty else { throw failure("\(key) has no value") }
            switch key {
            case "metrics_textfile":
                guard value.hasPrefix("/") else { throw failure("metrics_textfile must be an absolute path, not \"\(value)\"") }
                // node_exporter's textfile collector reads only `*.prom` files.
                guard value.hasSuffix(".prom") else {
                    throw failure("metrics_textfile must end in .prom (node_exporter reads only those), not \"\(value)\"")
                }
                metricsTextfile = String(value)
            case "metrics_interval":
                guard let seconds = Int(value), (1...3600).contains(seconds) else {
                    throw failure("metrics_interval must be whole seconds from 1 to 3600, not \"\(value)\"")
                }
                metricsInterval = seconds
            default:
                throw failure("unknown key \"\(key)\" (known: metrics_textfile, metrics_interval)")
            }
        }
    }
}

extension Substring {
    fileprivate func trimmingBlanks() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }
}
