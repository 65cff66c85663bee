import AuditTestKit
import Foundation
import KernelTestKit
import Testing

extension RealKernelSuite {
    /// `swift-auditd follow` on the log the daemon writes from this machine's kernel: events as they
    /// happen, across a rotation, and the interpreted text against ausearch's for the same log.
    /// Holds the kernel lock; deletes its rules and puts `enabled` back.
    @Suite(.timeLimit(.minutes(3)))
    struct RealKernelFollowTests {
        @Test func followPrintsEachKeyedEventOnceAcrossARotationAndInterpretsAsAusearch() async throws {
            try await RealKernel.withExclusiveUse(requiring: {
                Requirement.daemonBinary() ?? Requirement.executable("/usr/sbin/ausearch", package: "auditd")
            }) {
                let directory = try TemporaryDirectory("swift-auditd-follow-real")
                defer { directory.remove() }
                // RAW: the probe that proves the thread audited greps for RAW lines (KernelTestKit).
                let (logPath, daemon, thread) = try DaemonProcess.registeredWithAuditedThread(in: directory)
                // getppid: only the audited thread calls it (an openat rule on this process would
                // also match the test's own reads of the output, without end).
                let rule = AuditRule(on: "getppid", purpose: "follow")
                try rule.add()
                defer { rule.delete() }

                let outputPath = directory.appending("follow.json")
                _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
                let follower = Process()
                follower.executableURL = URL(fileURLWithPath: DaemonProcess.executablePath)
                follower.arguments = ["follow", "--format", "json", "--key", rule.key, "-c", directory.path]
                follower.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
                follower.standardError = FileHandle.nullDevice
                try follower.run()
                defer { if follower.isRunning { kill(follower.processIdentifier, SIGKILL) } }

                func allJSONLines() -> [[String: Any]] {
                    let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                    return text.split(separator: "\n").compactMap {
                        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                    }
                }
                // auditctl's add_rule and remove_rule events carry the key too: count the getppid ones.
                func jsonLines() -> [[String: Any]] {
                    allJSONLines().filter { event in
                        let first = (event["records"] as? [[String: Any]])?.first
                        return first?["type"] as? String == "SYSCALL" && (first?["fields"] as? [String: String])?["syscall"] == "110"
                    }
                }
                thread.callGetppid(5)
                #expect(eventually(timeout: .seconds(10)) { jsonLines().count == 5 }, "follow printed \(jsonLines().count) of 5")
                daemon.signal(SIGUSR1)
                #expect(daemon.waitForLine(in: "log/audit.log") { $0.hasPrefix("type=DAEMON_ROTATE ") } != nil)
                thread.callGetppid(5)
                #expect(eventually(timeout: .seconds(10)) { jsonLines().count == 10 }, "follow printed \(jsonLines().count) of 10")
                rule.delete()
                #expect(daemon.terminate() == 0)
                follower.terminate()
                #expect(eventually { !follower.isRunning }, "follow ends on SIGTERM")

                let events = jsonLines()
                #expect(events.count == 10)
                let all = allJSONLines()
                let serials = all.compactMap { ($0["stamp"] as? [String: Any])?["serial"] as? Int }
                #expect(Set(serials).count == all.count, "each event once: \(serials)")
                for event in events {
                    let records = event["records"] as? [[String: Any]] ?? []
                    #expect(records.last?["type"] as? String == "PROCTITLE")
                }

                // The whole workload, both files joined, read by ausearch and by follow.
                let joined = directory.appending("joined/audit.log")
                try FileManager.default.createDirectory(atPath: directory.appending("joined"), withIntermediateDirectories: true)
                let bytes = try Data(contentsOf: URL(fileURLWithPath: logPath + ".1")) + Data(contentsOf: URL(fileURLWithPath: logPath))
                try bytes.write(to: URL(fileURLWithPath: joined))
                let theirs = try shell("/usr/sbin/ausearch", ["-i", "--input", joined])
                let mine = Process()
                mine.executableURL = URL(fileURLWithPath: DaemonProcess.executablePath)
                mine.arguments = ["follow", "--no-follow", "--format", "interpreted", "-c", directory.path, joined]
                let pipe = Pipe()
                mine.standardOutput = pipe
                mine.standardError = FileHandle.nullDevice
                try mine.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                mine.waitUntilExit()
                #expect(output.count > 1000)
                #expect(output == theirs.output, "interpreted output differs from ausearch -i on the live log")
                print("follow on the real kernel: \(events.count) keyed events across a rotation, \(output.split(separator: "\n").count) interpreted lines equal to ausearch's")
            }
        }
    }
}
