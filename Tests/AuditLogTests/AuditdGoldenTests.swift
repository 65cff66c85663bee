import AuditProtocol
import AuditLog
import AuditTestKit
import AuditdGoldenLogs
import Foundation
import Testing

/// swift-auditd's lines against the ones Debian's auditd 3.0.9 wrote for the same records, byte
/// for byte (Fixtures/auditd-3.0.9/README.md says how they were made).
@Suite struct AuditdGoldenTests {
    /// Formats records as `AuditLogWriter` does, one line at a time.
    final class LineMaker {
        let enricher: RecordEnricher?
        private var formatters: [String: RecordFormatter] = [:]
        private let buffer = OutputBuffer(capacity: 64 * 1024)

        init(enricher: RecordEnricher?) { self.enricher = enricher }

        func line(_ record: AuditdGoldenLog.Line) -> [UInt8] {
            let key = record.node ?? ""
            let formatter = formatters[key] ?? RecordFormatter(nodeName: record.node)
            formatters[key] = formatter
            buffer.consume(buffer.count)
            record.payload.withUnsafeBytes { payload in
                formatter.appendRawText(type: AuditMessageType(record.type), payload: payload, to: buffer)
                enricher?.appendInterpretations(type: AuditMessageType(record.type), lineStart: 0, to: buffer)
            }
            return Array(buffer.bytes)
        }
    }

    /// Compares every line; on a difference, names the first few with 0x1D shown as `^]`.
    static func compare(_ lines: [AuditdGoldenLog.Line], _ make: (AuditdGoldenLog.Line) -> [UInt8]) -> [String] {
        var differences: [String] = []
        for line in lines {
            let made = make(line)
            if made != line.expected {
                differences.append("line \(line.number):\n  auditd: \(visible(line.expected))\n  ours:   \(visible(made))")
            }
        }
        return differences
    }

    static func visible(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 == 0x1D ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
            .replacingOccurrences(of: "|", with: "^]")
    }

    @Test func rawLinesAreAuditds() throws {
        let lines = try AuditdGoldenLog.lines("audit-raw.log")
        #expect(lines.count > 800)
        let maker = LineMaker(enricher: nil)
        let differences = Self.compare(lines, maker.line)
        let differing = differences.count
        #expect(differing == 0, "\(differing) lines differ:\n\(differences.prefix(5).joined(separator: "\n"))")
    }

    @Test func enrichedLinesAreAuditds() throws {
        let lines = try AuditdGoldenLog.lines("audit-enriched.log")
        #expect(lines.count > 800)
        let accounts = try AuditdGoldenLog.accounts()
        // The cache's clock follows the records' stamps, so a remembered miss lasts as it would have.
        nonisolated(unsafe) var now: Int64 = 0
        let enricher = RecordEnricher(directory: accounts, clock: { now })
        let maker = LineMaker(enricher: enricher)
        var enriched = 0
        let differences = Self.compare(lines) { line in
            now = AuditdGoldenLog.milliseconds(line.payload)
            AuditdGoldenLog.accountChange(before: line, in: accounts)?()
            defer { AuditdGoldenLog.accountChange(after: line, in: accounts)?() }
            let made = maker.line(line)
            if made.contains(0x1D) { enriched += 1 }
            return made
        }
        let differing = differences.count
        #expect(differing == 0, "\(differing) lines differ:\n\(differences.prefix(5).joined(separator: "\n"))")
        #expect(enriched == lines.filter { $0.expected.contains(0x1D) }.count)
    }

    @Test func probesAreWhatLibauparseWrites() throws {
        let lines = try AuditdGoldenLog.lines("oracle/probes-enriched.txt")
        let raw = try AuditdGoldenLog.lines("oracle/probes-raw.txt")
        #expect(lines.count == raw.count)
        let enricher = RecordEnricher(directory: try AuditdGoldenLog.accounts(), missLifetime: 0)
        let maker = LineMaker(enricher: enricher)
        let differences = Self.compare(lines, maker.line)
        let differing = differences.count
        #expect(differing == 0, "\(differing) lines differ:\n\(differences.prefix(8).joined(separator: "\n"))")
    }
}
