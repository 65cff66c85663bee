#if canImport(Glibc)
import Glibc
#endif

/// A configuration file that cannot be used: `FILE:LINE: what is wrong` (or `FILE: ...` for what no
/// line says), as auditd reports auditd.conf; the plugin exits with auditd's status 6 for it.
public struct ExporterConfigurationError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
    public static let exitStatus: Int32 = 6
}

/// Reads the plugin's configuration in auditd.conf's syntax (src/auditd-config.c, 3.0.9): one
/// `keyword = value` per line, tokens split on spaces, `#` starts a comment line, keywords and
/// enumerated values case-insensitive. As strict as auditd: an unknown keyword, a missing `=`, an
/// extra token or a bad value is an error naming the file and line.
public struct ExporterConfigurationParser {
    public let path: String

    public init(path: String) { self.path = path }

    public func parse(fileAt path: String) throws(ExporterConfigurationError) -> ExporterConfiguration {
        guard let file = fopen(path, "r") else {
            throw ExporterConfigurationError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        if ferror(file) != 0 { throw ExporterConfigurationError("\(path): cannot read: \(String(cString: strerror(errno)))") }
        return try parse(String(decoding: bytes, as: UTF8.self))
    }

    public func parse(_ text: String) throws(ExporterConfigurationError) -> ExporterConfiguration {
        var configuration = ExporterConfiguration()
        var seen: Set<String> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let tokens = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = tokens.first, !first.hasPrefix("#") else { continue }
            let keyword = first.lowercased()
            guard tokens.count >= 2, tokens[1] == "=" else {
                throw error(number, "'\(first)' is not followed by ' = ' (the form is 'keyword = value')")
            }
            guard tokens.count >= 3 else { throw error(number, "\(keyword) has no value") }
            guard tokens.count == 3 else { throw error(number, "\(keyword) has more than one value: '\(tokens[2...].joined(separator: " "))'") }
            try set(keyword, to: String(tokens[2]), line: number, in: &configuration)
            seen.insert(keyword)
        }
        if !seen.contains("endpoint") { throw ExporterConfigurationError("\(path): endpoint is required (the OTLP/HTTP logs URL)") }
        if !seen.contains("queue_dir") { throw ExporterConfigurationError("\(path): queue_dir is required (the durable queue's directory)") }
        if configuration.batchMaxBytes * 2 > configuration.queueMaxBytes {
            throw ExporterConfigurationError("\(path): batch_max_bytes (\(configuration.batchMaxBytes)) must be at most half of queue_max_bytes (\(configuration.queueMaxBytes))")
        }
        if configuration.retryInitialDelay > configuration.retryMaxDelay {
            throw ExporterConfigurationError("\(path): retry_initial_ms is longer than retry_max_seconds")
        }
        return configuration
    }

    private func set(_ keyword: String, to value: String, line: Int, in configuration: inout ExporterConfiguration) throws(ExporterConfigurationError) {
        switch keyword {
        case "endpoint":
            guard let url = OTLPEndpoint(value) else {
                throw error(line, "endpoint '\(value)' is not an http:// or https:// URL with a host")
            }
            configuration.endpoint = url.text
        case "queue_dir":
            guard value.hasPrefix("/"), value.count > 1 else { throw error(line, "queue_dir '\(value)' is not an absolute path") }
            configuration.queueDirectory = value
        case "queue_max_bytes":
            configuration.queueMaxBytes = try integer(value, keyword, line, in: 65_536...(1 << 40))
        case "queue_full_action":
            guard let action = QueueFullAction(rawValue: value.lowercased()) else {
                throw error(line, "queue_full_action '\(value)' is not one of \(QueueFullAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            configuration.queueFullAction = action
        case "batch_max_events":
            configuration.batchMaxEvents = try integer(value, keyword, line, in: 1...100_000)
        case "batch_max_bytes":
            configuration.batchMaxBytes = try integer(value, keyword, line, in: 16_384...(256 << 20))
        case "batch_delay_ms":
            configuration.batchDelay = .milliseconds(try integer(value, keyword, line, in: 0...60_000))
        case "sync_interval_ms":
            configuration.syncInterval = .milliseconds(try integer(value, keyword, line, in: 1...60_000))
        case "retry_initial_ms":
            configuration.retryInitialDelay = .milliseconds(try integer(value, keyword, line, in: 1...600_000))
        case "retry_max_seconds":
            configuration.retryMaxDelay = .seconds(try integer(value, keyword, line, in: 1...3600))
        case "request_timeout_seconds":
            configuration.requestTimeout = .seconds(try integer(value, keyword, line, in: 1...600))
        case "shutdown_timeout_seconds":
            configuration.shutdownTimeout = .seconds(try integer(value, keyword, line, in: 0...600))
        case "end_of_event_timeout":
            configuration.endOfEventTimeout = .seconds(try integer(value, keyword, line, in: 0...3600))
        case "host_name":
            guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw error(line, "host_name '\(value)' has a character that is not printable ASCII") }
            configuration.hostName = value
        case "service_name":
            guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw error(line, "service_name '\(value)' has a character that is not printable ASCII") }
            configuration.serviceName = value
        default:
            throw error(line, "unknown keyword '\(keyword)'")
        }
    }

    private func integer(_ value: String, _ keyword: String, _ line: Int, in range: ClosedRange<Int>) throws(ExporterConfigurationError) -> Int {
        guard value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(value) else {
            throw error(line, "\(keyword) '\(value)' is not a number")
        }
        guard range.contains(number) else {
            throw error(line, "\(keyword) \(number) is out of range (\(range.lowerBound) to \(range.upperBound))")
        }
        return number
    }

    private func error(_ line: Int, _ message: String) -> ExporterConfigurationError {
        ExporterConfigurationError("\(path):\(line): \(message)")
    }
}

/// An OTLP/HTTP URL as the configuration accepts it: a scheme the client speaks and a host.
struct OTLPEndpoint {
    let text: String

    init?(_ text: String) {
        let lowered = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
        let rest = text.dropFirst(scheme.count)
        guard let host = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first, !host.isEmpty else { return nil }
        self.text = text
    }
}
