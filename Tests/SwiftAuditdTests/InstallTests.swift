import AuditDaemon
import AuditTestKit
import Foundation
import Testing

/// `make install` into a staging root (DESTDIR): the files, their modes, a unit systemd accepts,
/// a tmpfiles entry systemd-tmpfiles applies, an auditd.conf that is never overwritten, and an
/// uninstall that takes back what install put there.
@Suite(.timeLimit(.minutes(2)))
struct InstallTests {
    /// The package's root, two levels above this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let manPages = ["swift-auditd.8", "swift-auditd.run.8", "swift-auditd.status.8", "swift-auditd.rotate.8",
                           "swift-auditd.reload.8", "swift-auditd.resume.8", "swift-auditd.stop.8", "swift-auditd.follow.8"]

    /// `make -C ROOT TARGET DESTDIR=… BINARY=<the built executable>`: the install rules without a
    /// build (a build inside `swift test` would wait for the test run's own lock).
    func make(_ target: String, _ stage: String, _ extra: [String] = []) throws -> (status: Int32, output: String) {
        try shell("/usr/bin/make", ["-s", "-C", Self.root, target, "DESTDIR=\(stage)", "BINARY=\(builtDaemonPath())"] + extra)
    }

    func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }

    @Test func installLaysOutTheExpectedFilesAndNeverReplacesAnAuditdConf() throws {
        let stage = try TemporaryDirectory("swift-auditd-stage")
        defer { stage.remove() }
        let first = try make("install-files", stage.path)
        try #require(first.status == 0, "\(first.output)")

        let expected: [(String, Int)] = [
            ("usr/sbin/swift-auditd", 0o755),
            ("usr/lib/systemd/system/swift-auditd.service", 0o644),
            ("usr/lib/tmpfiles.d/swift-auditd.conf", 0o644),
            ("etc/audit/auditd.conf", 0o640),
            ("etc/audit/swift-auditd.conf", 0o640),
        ] + Self.manPages.map { ("usr/share/man/man8/\($0)", 0o644) }
        for (path, wanted) in expected {
            #expect(mode(stage.appending(path)) == wanted, "\(path)")
        }
        #expect(mode(stage.appending("etc/audit")) == 0o750)
        let unit = try String(contentsOfFile: stage.appending("usr/lib/systemd/system/swift-auditd.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/sbin/swift-auditd run\n"))
        #expect(unit.contains("Type=notify\n"))

        // An administrator's auditd.conf survives a second install.
        let conf = stage.appending("etc/audit/auditd.conf")
        try "log_file = /srv/audit/audit.log\n".write(toFile: conf, atomically: false, encoding: .utf8)
        let second = try make("install-files", stage.path)
        #expect(second.status == 0)
        #expect(second.output.contains("keeping the existing"))
        #expect(try String(contentsOfFile: conf, encoding: .utf8) == "log_file = /srv/audit/audit.log\n")

        let removed = try make("uninstall", stage.path)
        #expect(removed.status == 0, "\(removed.output)")
        for (path, _) in expected where !path.hasPrefix("etc/audit/") {
            #expect(!FileManager.default.fileExists(atPath: stage.appending(path)), "\(path) left behind")
        }
        #expect(FileManager.default.fileExists(atPath: conf))
    }

    @Test func aPrefixMovesTheBinaryAndTheUnitFollowsIt() throws {
        let stage = try TemporaryDirectory("swift-auditd-stage")
        defer { stage.remove() }
        let result = try make("install-files", stage.path, ["PREFIX=/usr/local"])
        try #require(result.status == 0, "\(result.output)")
        #expect(FileManager.default.isExecutableFile(atPath: stage.appending("usr/local/sbin/swift-auditd")))
        let unit = try String(contentsOfFile: stage.appending("usr/local/lib/systemd/system/swift-auditd.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/sbin/swift-auditd run\n"))
        #expect(unit.contains("ExecReload=/usr/local/sbin/swift-auditd reload\n"))
    }

    @Test func systemdAcceptsTheStagedUnitAndTmpfilesEntry() throws {
        try Requirement.check(Requirement.executable("/usr/bin/systemd-analyze", package: "systemd"))
        let stage = try TemporaryDirectory("swift-auditd-stage")
        defer { stage.remove() }
        try #require(try make("install-files", stage.path).status == 0)
        // verify resolves ExecStart= under --root, and looks the Documentation= man pages up
        // through man(1): the staged ones first.
        let verify = try shell("/usr/bin/env", [
            "MANPATH=\(stage.appending("usr/share/man")):/usr/share/man", "/usr/bin/systemd-analyze", "verify",
            "--root=\(stage.path)", stage.appending("usr/lib/systemd/system/swift-auditd.service"),
        ])
        #expect(verify.status == 0, "systemd-analyze verify: \(verify.output)")
        #expect(verify.output.isEmpty, "systemd-analyze verify said: \(verify.output)")

        let tmpfiles = try shell("/usr/bin/systemd-tmpfiles", [
            "--root=\(stage.path)", "--create", stage.appending("usr/lib/tmpfiles.d/swift-auditd.conf"),
        ])
        #expect(tmpfiles.status == 0, "\(tmpfiles.output)")
        #expect(mode(stage.appending("run/audit")) == 0o755)
        #expect(mode(stage.appending("var/log/audit")) == 0o700)
    }

    @Test func theDefaultConfigurationIsReadAsAuditdReadsIt() throws {
        let text = try String(contentsOfFile: Self.root + "/config/auditd.conf", encoding: .utf8)
        let configuration = try AuditdConfiguration.parse(text, path: "config/auditd.conf")
        #expect(configuration.logFile == "/var/log/audit/audit.log")
        #expect(configuration.logFormat == .enriched)
        #expect(configuration.priorityBoost == 4)
        // swift-auditd.conf as shipped: every line a comment, so every default (no textfile).
        let settings = try String(contentsOfFile: Self.root + "/config/swift-auditd.conf", encoding: .utf8)
        #expect(try SwiftAuditdSettings(parsing: settings, path: "config/swift-auditd.conf") == SwiftAuditdSettings())
    }

    @Test(arguments: ["run", "status", "rotate", "reload", "resume", "stop", "follow"])
    func eachCommandsManPageIsCurrentWithItsHelp(command: String) throws {
        // Every option --help shows is in the committed page (make man regenerates them).
        let help = try shell(builtDaemonPath(), [command, "--help"]).output
        let page = try String(contentsOfFile: "\(Self.root)/man/swift-auditd.\(command).8", encoding: .utf8)
        let options = help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" })
            .filter { $0.hasPrefix("--") && $0.count > 2 }.map { String($0.dropFirst(2)) }
        #expect(!options.isEmpty)
        for option in Set(options) {
            #expect(page.contains("-\(option)"), "man/swift-auditd.\(command).8 lacks --\(option); run make man")
        }
    }
}
