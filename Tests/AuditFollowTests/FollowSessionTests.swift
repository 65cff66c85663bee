import AuditEvents
import AuditFollow
import AuditTestKit
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1)))
struct FollowSessionTests {
    /// Runs a session over `path` to the end, its output into a file; returns the output.
    func output(_ path: String, format: EventFormat, filter: EventFilter = EventFilter(), in directory: TemporaryDirectory) throws -> String {
        let outputPath = directory.appending("output-\(format.rawValue)")
        let descriptor = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(descriptor) }
        let outcome = FollowSession(path: path, follow: false, format: format, filter: filter, timeoutSeconds: 2,
                                    output: descriptor, note: { _ in }).run()
        #expect(!outcome.outputFailed)
        return try String(contentsOfFile: outputPath, encoding: .utf8)
    }

    @Test func anEventSplitByARotationIsPrintedWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("""
            type=SYSCALL msg=audit(1700000000.100:10): arch=c000003e syscall=257 key="etc-open"
            type=CWD msg=audit(1700000000.100:10): cwd="/"

            """, to: "audit.log.1")
        try directory.write("""
            type=PROCTITLE msg=audit(1700000000.100:10): proctitle=636174
            type=USER_LOGIN msg=audit(1700000000.200:11): pid=1 uid=0 res=success

            """, to: "audit.log")
        let lines = try output(directory.appending("audit.log"), format: .lines, in: directory)
        #expect(lines.split(separator: "\n").map { $0.prefix(14) } == ["type=SYSCALL m", "type=CWD msg=a", "type=PROCTITLE", "type=USER_LOGI"])
        let json = try output(directory.appending("audit.log"), format: .json, filter: EventFilter(keys: [Array("etc-open".utf8)]), in: directory)
        let events = json.split(separator: "\n")
        #expect(events.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(events[0].utf8)) as? [String: Any]
        #expect((object?["records"] as? [Any])?.count == 3)
    }
}
