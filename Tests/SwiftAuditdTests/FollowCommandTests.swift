import AuditTestKit
import AuditdGoldenLogs
import Foundation
import Testing

/// `swift-auditd follow` as a user runs it.
@Suite(.timeLimit(.minutes(2)))
struct FollowCommandTests {
    /// Runs the built executable; returns its status, standard output and standard error apart.
    func follow(_ arguments: [String], as user: Int? = nil) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", builtDaemonPath(), "follow"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: builtDaemonPath())
            process.arguments = ["follow"] + arguments
        }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    @Test func interpretedOutputEqualsAusearchOnTheGoldenLog() throws {
        try Requirement.check(Requirement.daemonBinary(builtDaemonPath()) ?? Requirement.executable("/usr/sbin/ausearch", package: "auditd"))
        let log = AuditdGoldenLog.directory + "/audit-enriched.log"
        let mine = try follow(["--no-follow", "--format", "interpreted", "-c", "/nonexistent", log])
        let theirs = try shell("/usr/sbin/ausearch", ["-i", "--input", log])
        #expect(mine.status == 0, "\(mine.errors)")
        #expect(mine.output == theirs.output)
    }

    @Test func jsonFilteredByKeyPrintsOneLinePerMatchingEvent() throws {
        try Requirement.check(Requirement.daemonBinary(builtDaemonPath()))
        let log = AuditdGoldenLog.directory + "/audit-enriched.log"
        let result = try follow(["--no-follow", "--format", "json", "--key", "enrich-watch", "--type", "PATH", log])
        #expect(result.status == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.count > 0)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((object["keys"] as? [String])?.contains("enrich-watch") == true)
            #expect((object["records"] as? [[String: Any]])?.contains { $0["type"] as? String == "PATH" } == true)
        }
    }

    @Test func aUserWhoMayNotReadSomeFilesGetsTheRestAndTheirNames() throws {
        try Requirement.check(Requirement.root.map { "\($0) to drop to nobody" }
                              ?? Requirement.executable("/usr/bin/setpriv", package: "util-linux")
                              ?? Requirement.daemonBinary(builtDaemonPath()))
        let directory = try TemporaryDirectory("swift-auditd-follow-nobody")
        defer { directory.remove() }
        chmod(directory.path, 0o755)
        try directory.write("type=USER_LOGIN msg=audit(1700000000.100:1): pid=1 uid=0 res=success\n", to: "audit.log.1")
        try directory.write("type=USER_LOGIN msg=audit(1700000000.200:2): pid=1 uid=0 res=success\n", to: "audit.log")
        chmod(directory.appending("audit.log.1"), 0o600)
        chmod(directory.appending("audit.log"), 0o644)
        let result = try follow(["--no-follow", directory.appending("audit.log")], as: 65534)
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output == "type=USER_LOGIN msg=audit(1700000000.200:2): pid=1 uid=0 res=success\n")
        #expect(result.errors.contains("cannot read \(directory.appending("audit.log.1")): Permission denied"), "\(result.errors)")
    }

    @Test func aBadFormatOrTypeIsRefusedWithStatusTwo() throws {
        try Requirement.check(Requirement.daemonBinary(builtDaemonPath()))
        let format = try follow(["--no-follow", "--format", "xml", "/dev/null"])
        #expect(format.status == 2)
        #expect(format.errors.contains("--format must be lines, interpreted or json, not 'xml'"))
        let type = try follow(["--no-follow", "--type", "NOSUCHTYPE", "/dev/null"])
        #expect(type.status == 2)
        #expect(type.errors.contains("--type NOSUCHTYPE: not a message type"))
    }
}
