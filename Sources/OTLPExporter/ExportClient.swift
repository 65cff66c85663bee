import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwiftProtobuf

/// What one export request came to, as OTLP/HTTP's rules classify it (opentelemetry-proto,
/// docs/specification.md, "OTLP/HTTP Response"): 2xx is accepted, possibly in part; 429, 502, 503
/// and 504 (and a connection that failed or timed out) may be retried, after `Retry-After` if
/// given; every other status must not be.
public enum ExportOutcome: Sendable, Equatable {
    case accepted(rejectedRecords: Int64, message: String)
    case retry(after: Duration?, reason: String)
    case refused(status: Int, reason: String)
}

/// POSTs encoded `ExportLogsServiceRequest`s to the endpoint with async-http-client.
public final class ExportClient: Sendable {
    let endpoint: String
    let requestTimeout: Duration
    let client: HTTPClient

    public init(endpoint: String, requestTimeout: Duration) {
        self.endpoint = endpoint
        self.requestTimeout = requestTimeout
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(Int64(requestTimeout.components.seconds)))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    public func send(_ body: [UInt8]) async -> ExportOutcome {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: "swift-auditd-otlp")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let seconds = requestTimeout.components.seconds
            let response = try await client.execute(request, timeout: .seconds(seconds))
            let answer = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            let bytes = Array(answer.readableBytesView)
            switch status {
            case 200..<300:
                let decoded = try? OTLPExportLogsServiceResponse(serializedBytes: bytes)
                let partial = decoded?.partialSuccess
                return .accepted(rejectedRecords: partial?.rejectedLogRecords ?? 0, message: partial?.errorMessage ?? "")
            case 429, 502, 503, 504:
                return .retry(after: Self.retryAfter(response.headers.first(name: "Retry-After")), reason: "HTTP \(status)")
            default:
                return .refused(status: status, reason: "HTTP \(status): \(Self.excerpt(bytes))")
            }
        } catch {
            return .retry(after: nil, reason: "\(error)")
        }
    }

    /// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3); nil when absent or unreadable.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSinceNow * 1000)))
    }

    /// What a refusal said, short and printable (an OTLP Status message or a plain text body).
    static func excerpt(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        return String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0 == " ") ? $0 : "." })
    }
}
