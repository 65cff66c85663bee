import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// What swift-auditd sends its plugins, pinned against what Debian's auditd 3.0.9 sends its own
    /// for the same records: auditd registered with the kernel, swift-auditd beside it in shadow
    /// mode (`--multicast`, the same records from the read-only group), each with a capture plugin
    /// that appends its standard input to a file.
    @Suite(.timeLimit(.minutes(3)))
    struct PluginTests {
        static func cannotRun() -> String? {
            Requirement.daemonBinary() ?? Requirement.executable("/usr/sbin/auditd", package: "auditd")
        }

        /// A plugin directory holding one active capture plugin writing to `output`.
        static func capturePlugins(in directory: TemporaryDirectory, name: String, output: String, format: String) throws -> String {
            let plugins = directory.appending("\(name)-plugins.d")
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
            let program = try CapturePlugin.program(in: directory, name: "\(name)-capture")
            let conf = try directory.write(
                "active = yes\ndirection = out\npath = \(program)\ntype = always\nargs = \(output)\nformat = \(format)\n",
                to: "\(name)-plugins.d/capture.conf")
            chmod(conf, 0o640)
            return plugins
        }

        /// The messages of a capture file, each as the bytes that count: a string plugin's lines,
        /// or a binary plugin's header and its `size` bytes of data (auditd's padding is whatever
        /// was in its memory).
        static func messages(_ path: String, binary: Bool) -> [[UInt8]] {
            guard let data = FileManager.default.contents(atPath: path) else { return [] }
            let bytes = [UInt8](data)
            guard binary else { return bytes.split(separator: 0x0A).map(Array.init) }
            var messages: [[UInt8]] = []
            var start = 0
            while start + 16 + 8970 <= bytes.count {
                let size = Int(bytes[(start + 12)..<(start + 16)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
                messages.append(Array(bytes[start..<(start + 16 + min(size, 8970))]))
                start += 16 + 8970
            }
            return messages
        }

        /// A message for a failure's text: its header in hex when binary, then its text.
        static func printable(_ message: [UInt8]) -> String {
            let text = message.starts(with: Array("type=".utf8)) || message.starts(with: Array("node=".utf8))
            guard !text else { return String(decoding: message, as: UTF8.self) }
            let header = message.prefix(16).map { String($0, radix: 16) }.joined(separator: " ")
            return "[\(header)] " + String(decoding: message.dropFirst(16), as: UTF8.self)
        }

        /// The serial in a message's `audit(…:SERIAL)` stamp.
        static func serial(_ message: [UInt8]) -> String? {
            let text = String(decoding: message, as: UTF8.self)
            guard let open = text.range(of: "msg=audit(") ?? text.range(of: "audit("),
                  let close = text[open.upperBound...].firstIndex(of: ")") else { return nil }
            return text[open.upperBound..<close].split(separator: ":").last.map(String.init)
        }

        @Test(arguments: [("RAW", "string"), ("RAW", "binary"), ("ENRICHED", "string"), ("ENRICHED", "binary")])
        func realKernelPluginsGetWhatDebiansAuditdSendsItsPluginsByteForByte(logFormat: String, pluginFormat: String) async throws {
            try await RealKernel.withExclusiveUse(requiring: Self.cannotRun) {
                let directory = try TemporaryDirectory("swift-auditd-plugins")
                defer { directory.remove() }
                let binary = pluginFormat == "binary"
                let auditdOutput = directory.appending("auditd.out"), ourOutput = directory.appending("swift-auditd.out")

                // Debian's auditd, registered, in the foreground, with a configuration directory of its own.
                let auditdDirectory = directory.appending("auditd")
                try FileManager.default.createDirectory(atPath: auditdDirectory, withIntermediateDirectories: false)
                let auditdPlugins = try Self.capturePlugins(in: directory, name: "auditd", output: auditdOutput, format: pluginFormat)
                try directory.write("""
                    log_file = \(auditdDirectory)/audit.log
                    log_format = \(logFormat)
                    flush = INCREMENTAL_ASYNC
                    freq = 50
                    num_logs = 5
                    space_left = 2
                    admin_space_left = 1
                    plugin_dir = \(auditdPlugins)
                    """ + "\n", to: "auditd/auditd.conf")
                let auditd = Process()
                auditd.executableURL = URL(fileURLWithPath: "/usr/sbin/auditd")
                auditd.arguments = ["-n", "-c", auditdDirectory]
                auditd.standardOutput = FileHandle.nullDevice
                auditd.standardError = FileHandle.nullDevice
                try auditd.run()
                defer {
                    // auditd stops on SIGTERM once running; should it not, SIGKILL leaves a dead
                    // registration that the next test must not find.
                    kill(auditd.processIdentifier, SIGTERM)
                    if !eventually(timeout: .seconds(10), { !auditd.isRunning }) { kill(auditd.processIdentifier, SIGKILL) }
                    auditd.waitUntilExit()
                    clearDeadRegistration(of: auditd.processIdentifier)
                }
                // auditd reports its configuration problems to syslog only; its exit status says there was one.
                try #require(eventually { (try? RealKernel.status())?.pid == UInt32(auditd.processIdentifier) },
                             "auditd did not register (exit status \(auditd.isRunning ? "none, still running" : "\(auditd.terminationStatus)"))")

                // swift-auditd in shadow mode with the same log format and its own capture plugin.
                let ourPlugins = try Self.capturePlugins(in: directory, name: "ours", output: ourOutput, format: pluginFormat)
                let logPath = try AuditdConf(in: directory, format: logFormat, extra: "plugin_dir = \(ourPlugins)\n").write(to: directory)
                let daemon = try DaemonProcess(directory: directory, arguments: ["--multicast"])
                defer { _ = daemon.terminate() }
                let thread = try AuditedThread(provingWith: logPath)

                let rule = AuditRule()
                try rule.add()
                let events = 50
                thread.callGetppid(events)
                rule.delete()
                let keyed = { (path: String) in
                    Self.messages(path, binary: binary).filter { String(decoding: $0, as: UTF8.self).contains(rule.key) }.count
                }
                #expect(eventually { keyed(auditdOutput) >= events && keyed(ourOutput) >= events },
                        "auditd's plugin got \(keyed(auditdOutput)), swift-auditd's \(keyed(ourOutput)) of \(events)")
                let serials = Set(Self.messages(auditdOutput, binary: binary)
                    .filter { String(decoding: $0, as: UTF8.self).contains(rule.key) }.compactMap(Self.serial))
                let theirs = Self.messages(auditdOutput, binary: binary).filter { Self.serial($0).map(serials.contains) == true }
                // Every record of those events, EOE included, once both have them all.
                #expect(eventually {
                    Self.messages(ourOutput, binary: binary).filter { Self.serial($0).map(serials.contains) == true }.count >= theirs.count
                })
                let ours = Self.messages(ourOutput, binary: binary).filter { Self.serial($0).map(serials.contains) == true }
                #expect(daemon.terminate() == 0)
                #expect(ours.count == theirs.count)
                let differing = zip(theirs, ours).filter { $0.0 != $0.1 }
                if let (theirs, ours) = differing.first {
                    Issue.record("""
                        \(differing.count) messages differ; the first:
                        auditd:       \(Self.printable(theirs))
                        swift-auditd: \(Self.printable(ours))
                        """)
                }
                let types = Set(theirs.compactMap { String(decoding: $0, as: UTF8.self).firstMatch(of: /type=([A-Z_]+)/).map { String($0.1) } })
                print("plugins, \(logFormat) \(pluginFormat): \(theirs.count) messages of \(serials.count) events from Debian's auditd, \(ours.count) from swift-auditd, \(differing.count) differ; types \(types.sorted())")
            }
        }
    }
}
