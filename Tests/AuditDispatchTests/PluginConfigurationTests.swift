import AuditDispatch
import AuditTestKit
import Foundation
import Testing

/// Plugin files read as auditd 3.0.9 reads them: Debian's own files unchanged, and every refusal
/// naming the file and the line.
@Suite struct PluginConfigurationTests {
    static var debianDirectory: String {
        Bundle.module.url(forResource: "Fixtures/debian-plugins.d", withExtension: nil)!.path
    }

    func parse(_ text: String, file: String = "/etc/audit/plugins.d/test.conf") throws(PluginConfigurationError) -> PluginConfiguration {
        try PluginConfiguration.parse(text, file: file)
    }

    @Test func debiansShippedFilesLoadUnchanged() throws {
        func read(_ name: String) throws -> PluginConfiguration {
            let file = Self.debianDirectory + "/" + name
            return try PluginConfiguration.parse(try String(contentsOfFile: file, encoding: .utf8), file: file)
        }
        let afUnix = try read("af_unix.conf")
        #expect(afUnix.isBuiltinAfUnix && afUnix.kind == .builtin && !afUnix.isActive)
        #expect(afUnix.arguments == ["0640", "/var/run/audispd_events"])
        #expect(afUnix.format == .string)
        let remote = try read("au-remote.conf")
        #expect(remote.path == "/sbin/audisp-remote" && remote.kind == .always && remote.arguments.isEmpty)
        let syslog = try read("syslog.conf")
        #expect(syslog.path == "/sbin/audisp-syslog" && syslog.arguments == ["LOG_INFO"])
        let zos = try read("audispd-zos-remote.conf")
        #expect(zos.arguments == ["/etc/audit/zos-remote.conf"])
    }

    @Test func keywordsAndValuesAreCaseInsensitiveAndArgsTakeAtMostTwoWords() throws {
        let plugin = try parse("ACTIVE = Yes\nDirection = OUT\npath = /usr/sbin/x\nType = Always\nargs = one two\nformat = BINARY\n")
        #expect(plugin.isActive && plugin.path == "/usr/sbin/x" && plugin.format == .binary)
        #expect(plugin.arguments == ["one", "two"])
        #expect(plugin.name == "test.conf")
    }

    @Test(arguments: [
        ("active = maybe\n", 1, "option maybe not found for \"active\""),
        ("# a comment\n\nfoo = bar\n", 3, "unknown keyword \"foo\""),
        ("path /sbin/x\n", 1, "missing equal sign after \"path\""),
        ("path =\n", 1, "wrong number of arguments for \"path\""),
        ("args = a b c\n", 1, "wrong number of arguments for \"args\""),
        ("format = string extra\n", 1, "keyword \"format\" has invalid option \"extra\""),
        ("direction = in\n", 1, "option in not found for \"direction\""),
        ("path = /x/prog\n", 1, "the directory name of /x/prog is too short"),
        ("active = yes\n", 1, "the plugin is active but no path is given"),
        ("active = yes\npath = builtin_nothing\n", 2, "unknown builtin builtin_nothing"),
    ])
    func aBadLineIsRefusedWithItsFileAndLine(text: String, line: Int, problem: String) {
        #expect(throws: PluginConfigurationError(file: "/etc/audit/plugins.d/test.conf", line: line, problem)) {
            try parse(text)
        }
        #expect(PluginConfigurationError(file: "/p/x.conf", line: line, problem).description == "/p/x.conf:\(line): \(problem)")
    }
}
