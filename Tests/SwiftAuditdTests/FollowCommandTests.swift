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

    /// `sudo make run` then `swift-auditd follow`: with no FILE and no -c, the running daemon's log
    /// (from its state report), not the log_file of /etc/audit/auditd.conf; with -c, auditd.conf's.
    @Test func withoutAFileItReadsTheRunningDaemonsLog() throws {
        try Requirement.check(Requirement.daemonBinary(builtDaemonPath()))
        let daemon = try DaemonProcess.spawned()
        try #require(daemon.waitUntilRegistered(), "diagnostics: \(daemon.diagnostics)")
        try daemon.kernel.emit(.syscall, "audit(1700000001.000:7): arch=c000003e syscall=110 key=\"follow-default\"")
        try daemon.kernel.emit(.endOfEvent, "audit(1700000001.000:7): ")
        #expect(daemon.waitForLine { $0.contains("follow-default") } != nil)

        let found = try follow(["--no-follow", "--key", "follow-default", "--run-directory", daemon.runDirectory])
        #expect(found.status == 0, "\(found.errors)")
        #expect(found.errors.contains("reading \(daemon.logPath), the log of the running swift-auditd (pid \(daemon.pid))"),
                "\(found.errors)")
        #expect(found.output.contains("msg=audit(1700000001.000:7)"), "\(found.output)")

        // -c names the configuration to use: its log_file, whatever runs.
        let other = try TemporaryDirectory("swift-auditd-follow-conf")
        defer { other.remove() }
        try other.write("log_file = \(other.appending("audit.log"))\n", to: "auditd.conf")
        try other.write("", to: "audit.log")
        let configured = try follow(["--no-follow", "-c", other.path, "--run-directory", daemon.runDirectory])
        #expect(configured.status == 0, "\(configured.errors)")
        #expect(configured.output.isEmpty && !configured.errors.contains("running swift-auditd"), "\(configured.errors)")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
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
