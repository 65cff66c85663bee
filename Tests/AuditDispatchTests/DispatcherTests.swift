import AuditDispatch
import AuditProtocol
import AuditLog
import AuditTestKit
import Foundation
import Synchronization
import Testing

/// The dispatcher with real plugin programs (shell scripts owned by root, mode 0750, as auditd
/// requires) and the built-in af_unix socket. Root only: plugins and their programs must be owned by
/// root.
@Suite(.timeLimit(.minutes(2)))
struct DispatcherTests {
    /// A plugin directory of the test's own, plugin programs that append what they read to files,
    /// and a dispatcher on it.
    final class Bench {
        let directory: TemporaryDirectory
        let log = CapturedLog()
        let actions = RecordedActions()
        var settings = DispatcherSettings()
        private(set) var dispatcher: Dispatcher?

        init() throws {
            try Requirement.check(Requirement.root.map { "\($0): plugin files and programs must be owned by root" })
            directory = try TemporaryDirectory("swift-auditd-plugins")
            try FileManager.default.createDirectory(atPath: directory.appending("plugins.d"), withIntermediateDirectories: false)
            settings.pluginDirectory = directory.appending("plugins.d")
            settings.localProtocol = .kernelText
            settings.queueDepth = 1000
        }

        /// A capture program (`CapturePlugin`), or one with a `body` of the test's own.
        func program(_ name: String = "capture", body: String? = nil) throws -> String {
            guard let body else { return try CapturePlugin.program(in: directory, name: name) }
            return try CapturePlugin.program(in: directory, name: name, body: body)
        }

        /// A plugins.d file; `output` names the capture file (the program's first argument).
        @discardableResult
        func plugin(_ name: String, program: String, output: String? = nil, format: String = "string", active: String = "yes") throws -> String {
            let args = output.map { "args = \(directory.appending($0))\n" } ?? ""
            let path = try directory.write(
                "active = \(active)\ndirection = out\npath = \(program)\ntype = always\n\(args)format = \(format)\n",
                to: "plugins.d/\(name)")
            chmod(path, 0o640)
            return path
        }

        func start() throws -> Dispatcher {
            let dispatcher = try Dispatcher(settings: settings, systemActions: actions, logger: log.logger)
            dispatcher.start()
            self.dispatcher = dispatcher
            return dispatcher
        }

        /// Hands `count` records to the dispatcher as the record loop does, a nudge after each batch of 50.
        func dispatch(_ count: Int, from first: Int = 1, tag: String = "r") {
            for serial in first..<(first + count) {
                let text = Array("audit(1700000000.000:\(serial)): \(tag)=\(serial)".utf8)
                text.withUnsafeBytes { dispatcher!.dispatch(type: AuditMessageType(1300), kernelText: $0, line: $0) }
                if serial % 50 == 0 { dispatcher!.nudge() }
            }
            dispatcher!.nudge()
        }

        func lines(_ name: String) -> [String] { (try? directory.lines(of: name)) ?? [] }

        func status(_ name: String) -> PluginStatus? { dispatcher?.statuses.first { $0.name == name } }

        deinit {
            dispatcher?.stop()
            directory.remove()
        }
    }

    final class RecordedActions: SystemActions, @unchecked Sendable {
        private let lock = Mutex<[String]>([])
        var recorded: [String] { lock.withLock { $0 } }
        func run(executable path: String) { lock.withLock { $0.append("run \(path)") } }
        func changeRunlevel(_ level: Runlevel) { lock.withLock { $0.append("init \(level.rawValue)") } }
    }

    static func expectedLines(_ range: ClosedRange<Int>, tag: String = "r") -> [String] {
        range.map { "type=SYSCALL msg=audit(1700000000.000:\($0)): \(tag)=\($0)" }
    }

    /// Children of this process that are zombies (exited, not reaped).
    static func zombieChildren() -> [String] {
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> String? in
            guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && fields[0] == "Z" && Int32(fields[1]) == me ? entry : nil
        }
    }

    @Test func aStringPluginGetsEveryRecordInOrderAndIsReapedAtTheStop() throws {
        let bench = try Bench()
        try bench.plugin("capture.conf", program: try bench.program(), output: "out.txt")
        let dispatcher = try bench.start()
        let pid = try #require(bench.status("capture.conf")?.pid)
        #expect(pid > 0)
        // No descriptor of the daemon's leaks into a plugin: its socket as standard input,
        // standard output and error, nothing else.
        #expect(eventually { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.sorted() == ["0", "1", "2"] },
                "\((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [])")
        bench.dispatch(1000)
        #expect(eventually { bench.lines("out.txt").count == 1000 })
        #expect(bench.lines("out.txt") == Self.expectedLines(1...1000))
        dispatcher.stop()
        #expect(kill(pid, 0) != 0, "the plugin is gone after the stop")
        #expect(Self.zombieChildren().isEmpty)
        #expect(bench.status("capture.conf")?.dropped == 0)
    }

    @Test func aBinaryPluginGetsTheHeaderAndAuditdsFixedSizeForEachRecord() throws {
        let bench = try Bench()
        try bench.plugin("binary.conf", program: try bench.program(), output: "out.bin", format: "binary")
        _ = try bench.start()
        bench.dispatch(3)
        let path = bench.directory.appending("out.bin")
        #expect(eventually { ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) == 3 * (16 + 8970) })
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for index in 0..<3 {
            let start = index * (16 + 8970)
            let header = (0..<4).map { field in
                bytes[(start + field * 4)..<(start + field * 4 + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            }
            let text = "audit(1700000000.000:\(index + 1)): r=\(index + 1)"
            #expect(header == [0, 16, 1300, UInt32(text.utf8.count)])
            #expect(Array(bytes[(start + 16)..<(start + 16 + text.utf8.count)]) == Array(text.utf8))
            #expect(bytes[(start + 16 + text.utf8.count)..<(start + 16 + 8970)].allSatisfy { $0 == 0 })
        }
    }

    @Test func aPluginKilledWithSigkillIsRestartedAndGetsTheNextRecords() throws {
        let bench = try Bench()
        try bench.plugin("capture.conf", program: try bench.program(), output: "out.txt")
        _ = try bench.start()
        bench.dispatch(100)
        #expect(eventually { bench.lines("out.txt").count == 100 })
        let first = try #require(bench.status("capture.conf")?.pid)
        kill(first, SIGKILL)
        #expect(eventually { (bench.status("capture.conf")?.restarts ?? 0) == 1 })
        bench.dispatch(100, from: 101)
        #expect(eventually { bench.lines("out.txt").count == 200 })
        #expect(bench.lines("out.txt") == Self.expectedLines(1...200))
        let status = try #require(bench.status("capture.conf"))
        #expect(status.pid != first && status.pid > 0 && status.state == .running)
        #expect(bench.log.count(containing: "terminated unexpectedly") == 1)
        #expect(bench.log.count(containing: "was restarted") == 1)
        #expect(Self.zombieChildren().isEmpty)
    }

    @Test func aStoppedPluginFillsOnlyItsOwnQueueAndItsDropsAreCounted() throws {
        let bench = try Bench()
        bench.settings.queueDepth = 100
        try bench.plugin("stalled.conf", program: try bench.program(), output: "stalled.txt")
        try bench.plugin("healthy.conf", program: try bench.program(), output: "healthy.txt")
        _ = try bench.start()
        let stalled = try #require(bench.status("stalled.conf")?.pid)
        kill(stalled, SIGSTOP)
        defer { kill(stalled, SIGCONT) }
        // In batches the healthy plugin keeps up with (q_depth is each plugin's, 100 here).
        for batch in 0..<50 {
            bench.dispatch(100, from: batch * 100 + 1)
            #expect(eventually { bench.lines("healthy.txt").count == (batch + 1) * 100 }, "the other plugin gets everything")
        }
        let dropped = bench.status("stalled.conf")?.dropped ?? 0
        #expect(dropped > 0)
        #expect(bench.status("healthy.conf")?.dropped == 0)
        #expect(bench.log.count(containing: "queue to plugin stalled.conf") == 5)
        kill(stalled, SIGCONT)
        #expect(eventually { bench.status("stalled.conf")?.queued == 0 })
        // An empty queue means written to the pipe; the plugin may still be copying them to its file.
        var delivered = 0
        #expect(eventually {
            delivered = bench.lines("stalled.txt").count
            return UInt64(delivered) + dropped >= 5000
        })
        #expect(UInt64(delivered) + dropped == 5000, "every record is delivered or counted: \(delivered) + \(dropped)")
        print("stopped plugin, q_depth 100: 5000 records, \(delivered) delivered after SIGCONT, \(dropped) dropped; the other plugin got \(bench.lines("healthy.txt").count)")
    }

    @Test func overflowActionSuspendStopsOnlyThatPluginUntilResumed() throws {
        let bench = try Bench()
        bench.settings.queueDepth = 10
        bench.settings.overflowAction = .suspend
        try bench.plugin("stalled.conf", program: try bench.program(), output: "stalled.txt")
        let dispatcher = try bench.start()
        let stalled = try #require(bench.status("stalled.conf")?.pid)
        kill(stalled, SIGSTOP)
        bench.dispatch(1000)
        #expect(bench.status("stalled.conf")?.state == .suspended)
        kill(stalled, SIGCONT)
        dispatcher.resume()
        #expect(eventually { bench.status("stalled.conf")?.state == .running })
        bench.dispatch(10, from: 2001, tag: "after")
        #expect(eventually { bench.lines("stalled.txt").suffix(10) == Self.expectedLines(2001...2010, tag: "after") })
        #expect(bench.log.count(containing: "suspending event passing to plugin stalled.conf") == 1)
    }

    @Test func overflowActionHaltAsksTheSeamOnce() throws {
        let bench = try Bench()
        bench.settings.queueDepth = 10
        bench.settings.overflowAction = .halt
        try bench.plugin("stalled.conf", program: try bench.program(), output: "stalled.txt")
        _ = try bench.start()
        let stalled = try #require(bench.status("stalled.conf")?.pid)
        kill(stalled, SIGSTOP)
        defer { kill(stalled, SIGCONT) }
        bench.dispatch(1000)
        #expect(bench.actions.recorded == ["init 0"])
    }

    @Test func aPluginThatKeepsExitingIsGivenUpAfterMaxRestarts() throws {
        let bench = try Bench()
        bench.settings.maxRestarts = 2
        try bench.plugin("quits.conf", program: try bench.program("quits", body: "exit 0"))
        _ = try bench.start()
        bench.dispatch(5)
        #expect(eventually { bench.status("quits.conf")?.state == .failed })
        #expect(bench.status("quits.conf")?.restarts == 3)
        #expect(bench.log.count(containing: "has exceeded max_restarts") == 1)
        #expect(eventually { Self.zombieChildren().isEmpty })
    }

    @Test func aReloadStartsNewStopsRemovedRestartsChangedAndKeepsTheRest() throws {
        let bench = try Bench()
        let program = try bench.program()
        try bench.plugin("kept.conf", program: program, output: "kept.txt")
        try bench.plugin("changed.conf", program: program, output: "changed-1.txt")
        try bench.plugin("removed.conf", program: program, output: "removed.txt")
        let dispatcher = try bench.start()
        let kept = try #require(bench.status("kept.conf")?.pid)
        let changed = try #require(bench.status("changed.conf")?.pid)
        let removed = try #require(bench.status("removed.conf")?.pid)
        try bench.plugin("changed.conf", program: program, output: "changed-2.txt")
        try FileManager.default.removeItem(atPath: bench.directory.appending("plugins.d/removed.conf"))
        try bench.plugin("new.conf", program: program, output: "new.txt")
        try bench.plugin("off.conf", program: program, output: "off.txt", active: "no")
        dispatcher.reload(bench.settings)
        #expect(eventually { bench.dispatcher?.statuses.map(\.name).sorted() == ["changed.conf", "kept.conf", "new.conf"] })
        #expect(bench.status("kept.conf")?.pid == kept)
        #expect(bench.status("kept.conf")?.restarts == 0)
        #expect(bench.status("changed.conf")?.pid != changed)
        #expect(kill(removed, 0) != 0 && kill(changed, 0) != 0, "the removed and the changed plugin's old process are gone")
        bench.dispatch(5)
        #expect(eventually { ["kept.txt", "changed-2.txt", "new.txt"].allSatisfy { bench.lines($0).count == 5 } })
        #expect(bench.lines("off.txt").isEmpty)
        #expect(Self.zombieChildren().isEmpty)
    }

    @Test func aBadPluginFileIsReportedAndTheOthersRun() throws {
        let bench = try Bench()
        let program = try bench.program()
        try bench.plugin("good.conf", program: program, output: "good.txt")
        let bad = try bench.directory.write("active = yes\npath = \(program)\nformat = fancy\n", to: "plugins.d/bad.conf")
        let open = try bench.plugin("open.conf", program: program, output: "open.txt")
        chmod(open, 0o666)
        let loose = try bench.program("loose")
        chmod(loose, 0o700)
        try bench.plugin("loose.conf", program: loose, output: "loose.txt")
        try bench.plugin("backup.conf.dpkg-old", program: program, output: "backup.txt")
        _ = try bench.start()
        #expect(bench.dispatcher?.statuses.map(\.name) == ["good.conf"])
        #expect(bench.log.count(containing: "\(bad):3: option fancy not found for \"format\"") == 1)
        #expect(bench.log.count(containing: "\(open):0: world writable") == 1)
        #expect(bench.log.count(containing: "\(loose) permissions should be 0750") == 1)
        #expect(bench.log.messages.filter { $0.contains("backup.conf.dpkg-old") }.isEmpty, "auditd skips names with two dots")
    }

    @Test func theBuiltinAfUnixSocketGivesEveryReaderEveryRecord() throws {
        let bench = try Bench()
        let socketPath = bench.directory.appending("events.sock")
        let conf = try bench.directory.write(
            "active = yes\ndirection = out\npath = builtin_af_unix\ntype = builtin\nargs = 0640 \(socketPath)\nformat = string\n",
            to: "plugins.d/af_unix.conf")
        chmod(conf, 0o640)
        _ = try bench.start()
        var status = stat()
        #expect(stat(socketPath, &status) == 0 && status.st_mode & 0o777 == 0o640)
        let readers = try (0..<2).map { _ in try UnixReader(path: socketPath) }
        #expect(eventually { bench.status("af_unix.conf")?.readers == 2 })
        bench.dispatch(500)
        for reader in readers {
            #expect(eventually { reader.lines().count == 500 })
            #expect(reader.lines() == Self.expectedLines(1...500))
        }
        bench.dispatcher?.stop()
        #expect(access(socketPath, F_OK) != 0, "the socket is removed at the stop")
    }

    /// A client of the af_unix socket reading everything it is sent.
    final class UnixReader {
        let fd: Int32
        private var received: [UInt8] = []

        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(connected == 0, "connect \(path): errno \(errno)")
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        func lines() -> [String] {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while case let count = read(fd, &chunk, chunk.count), count > 0 { received += chunk[0..<count] }
            return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
        }

        deinit { close(fd) }
    }
}
