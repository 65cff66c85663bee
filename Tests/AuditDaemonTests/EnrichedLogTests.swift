import AuditDaemon
import AuditLog
import AuditProtocol
import AuditTestKit
import AuditdGoldenLogs
import Foundation
import Testing

/// `log_format = ENRICHED` end to end: the kernel records of Debian auditd 3.0.9's golden log go
/// through a fake kernel into the daemon, and its log must hold the lines auditd wrote.
@Suite(.timeLimit(.minutes(1)))
struct EnrichedLogTests {
    /// The fake kernel's registration record, which the golden log does not have.
    static let marker = "msg=audit(1700000000.500:100): "

    /// The lines the kernel's records became: not the daemon's own records, not the marker.
    static func kernelLines(_ lines: [String]) -> [String] {
        lines.filter { !$0.hasPrefix("type=DAEMON_") && !$0.contains(marker) }
    }

    /// Waits until the log holds `count` lines made from kernel records.
    static func waitForKernelLines(_ harness: DaemonHarness, _ count: Int) -> [String] {
        var lines: [String] = []
        eventually {
            lines = kernelLines((try? harness.logLines()) ?? [])
            return lines.count >= count
        }
        return lines
    }

    @Test func theDaemonWritesAuditdsEnrichedLines() throws {
        let golden = try AuditdGoldenLog.lines("audit-enriched.log").filter { !$0.isDaemonRecord }
        let accounts = try AuditdGoldenLog.accounts()
        // Every miss is asked again, as auditd does, so account changes show at once.
        let harness = try DaemonHarness(logFormat: .enriched, enricher: RecordEnricher(directory: accounts, missLifetime: 0))
        defer { harness.cleanUp() }
        #expect(harness.waitUntilRegistered())

        // Records go out in runs; where the fixture machine's accounts changed between two
        // records, the daemon must have written the earlier ones before the table changes.
        var sent = 0
        for line in golden {
            if let change = AuditdGoldenLog.accountChange(before: line, in: accounts) {
                _ = Self.waitForKernelLines(harness, sent)
                change()
            }
            try harness.kernel.emit(raw: FakeKernel.datagram(AuditMessageType(line.type), line.payload, framing: .unicast))
            sent += 1
            if let change = AuditdGoldenLog.accountChange(after: line, in: accounts) {
                _ = Self.waitForKernelLines(harness, sent)
                change()
            }
        }
        #expect(Self.waitForKernelLines(harness, golden.count).count == golden.count)
        try harness.stop()

        let all = try harness.logLines()
        // The daemon's own records are enriched too, as auditd's are.
        #expect(all.first?.hasPrefix("type=DAEMON_START ") == true)
        #expect(all.first?.contains("\u{1D}AUID=") == true)
        let written = Self.kernelLines(all)
        #expect(written.count == golden.count)
        var differences: [String] = []
        for (line, wrote) in zip(golden, written) where Array(wrote.utf8) != line.expected {
            differences.append("line \(line.number):\n  auditd: \(line.text)\n  daemon: \(wrote)")
        }
        let differing = differences.count
        #expect(differing == 0, "\(differing) lines differ:\n\(differences.prefix(5).joined(separator: "\n"))")
    }
}
