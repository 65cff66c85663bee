import AuditTestKit
import Foundation
import RemoteProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `swift-auditd run` as a central server: `local_events = no` (it never touches the kernel, so
/// no kernel lock is needed) and `tcp_listen_port` on loopback. Clients are Debian's
/// audisp-remote and the tests' own `TestClient`.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CentralServerTests {
    /// A central server's auditd.conf; `local_events = no` is what keeps it off the kernel, so it
    /// is written here and nowhere else.
    static func startServer(in directory: TemporaryDirectory, port: Int, extra: String = "",
                            removesDirectory: Bool = false) throws -> DaemonProcess {
        let conf = AuditdConf(in: directory, extra: """
            local_events = no
            tcp_listen_port = \(port)
            use_libwrap = no
            \(extra)
            """)
        try conf.write(to: directory)
        let server = try DaemonProcess(directory: directory, removesDirectory: removesDirectory)
        // Listening once it says so (the listener starts before the loop).
        guard eventually(timeout: .seconds(20), { server.diagnostics.contains("listening for audisp-remote clients") }) else {
            _ = server.terminate()
            throw TestClient.Failure(description: "the server did not start listening: \(server.diagnostics)")
        }
        return server
    }

    /// A central server in a directory of its own (removed with it) on a free port.
    static func startServer(extra: String = "") throws -> (server: DaemonProcess, port: Int) {
        let directory = try TemporaryDirectory("swift-auditd-central")
        let port = try freePort()
        do {
            return (try startServer(in: directory, port: port, extra: extra, removesDirectory: true), port)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// A port nobody listens on now (the kernel's pick for a socket closed at once).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestClient.Failure(description: "cannot pick a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Lines of the log that are not the server's own records.
    static func clientLines(_ server: DaemonProcess) -> [String] {
        server.lines().filter { !$0.hasPrefix("type=DAEMON_") }
    }

    @Test func audispRemoteRecordsAreWrittenVerbatimAndFoundByNode() throws {
        try Requirement.check(AudispRemote.unavailable ?? Requirement.daemonBinary()
            ?? Requirement.executable("/sbin/ausearch", package: "auditd"))
        // ENRICHED and a node name of the server's own: neither touches a client's record.
        let (server, port) = try Self.startServer(extra: "log_format = ENRICHED\nname_format = user\nname = central\n")
        defer { _ = server.terminate() }
        let sent = AudispRemoteTests.records(300, node: "client1")
        let status = try AudispRemote.withConfiguration(server: "127.0.0.1", port: port) {
            try AudispRemote.send(sent)
        }
        #expect(status == 0, "audisp-remote exited with records unacknowledged")
        #expect(server.terminate() == 0)
        let lines = server.lines()
        #expect(lines.filter { !$0.hasPrefix("node=central ") } == sent, "the clients' records, verbatim and in order")
        #expect(lines.first?.hasPrefix("node=central type=DAEMON_START ") == true)
        #expect(lines.contains { $0.hasPrefix("node=central type=DAEMON_ACCEPT msg=audit(") && $0.hasSuffix(" res=success") })
        #expect(lines.last?.hasPrefix("node=central type=DAEMON_END ") == true)
        let closeIndex = lines.lastIndex { $0.contains(" type=DAEMON_CLOSE ") }
        #expect(closeIndex != nil && closeIndex! < lines.count - 1, "DAEMON_CLOSE before DAEMON_END")
        let found = try shell("/sbin/ausearch", ["--node", "client1", "-if", server.directory.appending("log/audit.log"), "--raw"])
        #expect(found.output.split(separator: "\n").filter { $0.hasPrefix("node=client1 ") }.count == sent.count,
                "ausearch --node client1 finds every record")
        print("audisp-remote -> swift-auditd run: \(sent.count) sent, \(lines.count - 4) client lines in the log, "
            + "ausearch --node client1 found \(found.output.split(separator: "\n").filter { $0.hasPrefix("node=client1 ") }.count)")
    }

    @Test func aClientHostInItsOwnNamespaceReachesTheServer() throws {
        try Requirement.check(AudispRemote.unavailable ?? Requirement.daemonBinary()
            ?? Requirement.executable("/usr/sbin/ip", package: "iproute2"))
        let host = try ClientHost()
        defer { host.remove() }
        // auditd's one dual-stack socket on every address: the veth link's included.
        let (server, port) = try Self.startServer()
        defer { _ = server.terminate() }
        let sent = AudispRemoteTests.records(200, node: "client-host")
        let status = try AudispRemote.withConfiguration(server: host.serverAddress, port: port) {
            try AudispRemote.send(sent, prefix: host.exec)
        }
        #expect(status == 0)
        #expect(server.terminate() == 0)
        #expect(Self.clientLines(server) == sent)
        #expect(server.lines().contains { $0.hasPrefix("type=DAEMON_ACCEPT ") && $0.contains("addr=::ffff:\(host.clientAddress) ") })
    }

    @Test func everyRecordAcknowledgedBeforeAKillIsOnDiskAfterTheRestart() throws {
        try Requirement.check(AudispRemote.unavailable ?? Requirement.daemonBinary())
        let directory = try TemporaryDirectory("swift-auditd-central")
        defer { directory.remove() }
        let port = try Self.freePort()
        let extra = "flush = data\n"
        var server = try Self.startServer(in: directory, port: port, extra: extra)
        let sent = AudispRemoteTests.records(5000, node: "crash")
        let (status, firstRun) = try AudispRemote.withConfiguration(server: "127.0.0.1", port: port) {
            () throws -> (Int32, Int) in
            let client = try AudispRemote.start(sent)
            // Mid-stream: some records written and acknowledged, most not yet sent.
            guard eventually(timeout: .seconds(30), { Self.clientLines(server).count >= 100 }) else {
                _ = try? AudispRemote.waitForExit(client, timeout: .seconds(1))
                throw TestClient.Failure(description: "the first server wrote too little: \(server.diagnostics)")
            }
            server.killAbruptly()
            let firstRun = Self.clientLines(server).count
            // The same log and port; audisp-remote reconnects and sends what it holds unacknowledged.
            server = try Self.startServer(in: directory, port: port, extra: extra)
            return (try AudispRemote.waitForExit(client, timeout: .seconds(90)), firstRun)
        }
        #expect(status == 0, "audisp-remote exited with records unacknowledged")
        #expect(server.terminate() == 0)
        #expect(firstRun < sent.count, "the kill came mid-stream")
        let written = Self.clientLines(server)
        // Records written but not yet acknowledged at the kill are sent again: at least once each.
        let missing = Set(sent).subtracting(written)
        #expect(missing.isEmpty, "\(missing.count) records lost, e.g. \(missing.sorted().prefix(3))")
        #expect(Set(written).isSubset(of: Set(sent)), "nothing but whole records in the log")
        print("kill -9 after \(firstRun) client records written; \(written.count - sent.count) sent twice")
    }

    @Test func anAckNeverPrecedesTheWriteAndSyncModesOpenTheLogSynchronously() throws {
        try Requirement.check(Requirement.daemonBinary())
        let (server, port) = try Self.startServer(extra: "flush = sync\n")
        defer { _ = server.terminate() }
        // With flush = sync every write is the sync (O_SYNC): the file is so opened.
        let flags = try Self.logDescriptorFlags(pid: server.pid, path: server.directory.appending("log/audit.log"))
        #expect(flags & Int(O_SYNC) == Int(O_SYNC), "the log is opened O_SYNC: flags \(String(flags, radix: 8))")
        let client = try TestClient(port: port)
        for serial in 1...200 {
            let record = "node=ack type=USER msg=audit(1733300000.000:\(serial)): serial=\(serial)"
            try client.sendRecord(record, sequenceID: UInt32(serial))
            let reply = try client.receiveReply()
            #expect(reply.header.type == .ack && reply.header.sequenceID == UInt32(serial))
            // The reply came: the line is already in the file, read by another process's view.
            let onDisk = Self.clientLines(server)
            #expect(onDisk.last == record, "ACK \(serial) came before its line was written")
            if onDisk.last != record { break }
        }
    }

    /// Clients that send without waiting (many frames in one read): every record is answered
    /// once, with ACK, in order, and only once it is in the log; the log has each client's records
    /// in its order.
    @Test func pipelinedFramesAreAckedInOrderAfterTheirWriteAndLoggedInOrder() throws {
        try Requirement.check(Requirement.daemonBinary())
        let (server, port) = try Self.startServer(extra: "tcp_max_per_addr = 2\n")
        defer { _ = server.terminate() }
        let count = 2000
        let sent = (0..<2).map { client in
            (1...count).map { "node=pipe\(client) type=USER msg=audit(1733300000.000:\($0)): serial=\($0)" }
        }
        let clients = try sent.map { _ in try TestClient(port: port) }
        // Each client's frames in one send. The listener stops reading a connection with many
        // unanswered, so the send returns only as replies free it; they wait in the client's
        // socket (2,000 replies are 32 KB) until read below.
        for (client, records) in zip(clients, sent) {
            try client.send(TestClient.frames(records))
        }
        for (number, client) in clients.enumerated() {
            for serial in 1...count {
                let reply = try client.receiveReply()
                #expect(reply.header.type == .ack && reply.header.sequenceID == UInt32(serial), "client \(number), reply \(serial)")
                guard reply.header.sequenceID == UInt32(serial) else { return }
                if serial % 500 == 0 {
                    // Its ACK came: its line is already in the file.
                    #expect(Self.clientLines(server).contains(sent[number][serial - 1]), "ACK \(serial) came before its write")
                }
            }
        }
        #expect(server.terminate() == 0)
        let lines = Self.clientLines(server)
        for (number, records) in sent.enumerated() {
            #expect(lines.filter { $0.hasPrefix("node=pipe\(number) ") } == records, "client \(number)'s records, in its order")
        }
    }

    @Test func statusListsConnectedClientsWithTheirCounts() throws {
        try Requirement.check(Requirement.daemonBinary())
        let (server, port) = try Self.startServer()
        defer { _ = server.terminate() }
        let client = try TestClient(port: port)
        for serial in 1...5 {
            try client.sendRecord("type=USER msg=audit(1733300000.000:\(serial)): x=\(serial)", sequenceID: UInt32(serial))
            _ = try client.receiveReply()
        }
        // What `swift-auditd status` shows (it reads the state report a SIGCONT makes); read
        // here without the kernel's AUDIT_GET.
        let stateFile = server.runDirectory + "/swift-auditd.state"
        let before = (try? String(contentsOfFile: stateFile, encoding: .utf8)) ?? ""
        server.signal(SIGCONT)
        var report = ""
        #expect(eventually {
            report = (try? String(contentsOfFile: stateFile, encoding: .utf8)) ?? ""
            return report != before && report.contains("remote client 1 = ")
        }, "\(report)")
        #expect(report.contains("mode = network only"), "\(report)")
        #expect(report.contains("remote client 1 = ::ffff:127.0.0.1:\(client.localPort) records=5 replies=5 pending=0"), "\(report)")
        // `swift-auditd status` itself, its AUDIT_GET answered by a fake kernel with no daemon
        // registered: the PID file's network-only server is shown.
        let kernel = try FakeKernel()
        let status = try shell(DaemonProcess.executablePath, ["status", "--kernel-fd", "0", "--run-directory", server.runDirectory],
                               input: kernel.daemonSocket.descriptor)
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.contains("network only"), "\(status.output)")
        #expect(status.output.contains("remote clients:     1 connected"), "\(status.output)")
        #expect(status.output.contains("::ffff:127.0.0.1:\(client.localPort) records=5 replies=5"), "\(status.output)")

        // The metrics count per client address, and a reconnection does not set the count back.
        client.hangUp()
        let second = try TestClient(port: port)
        for serial in 6...7 {
            try second.sendRecord("type=USER msg=audit(1733300000.000:\(serial)): x=\(serial)", sequenceID: UInt32(serial))
            _ = try second.receiveReply()
        }
        var metrics = ""
        #expect(eventually {
            let result = try? shell(DaemonProcess.executablePath, ["status", "--format", "prometheus", "--kernel-fd", "0",
                                                                   "--run-directory", server.runDirectory],
                                    input: kernel.daemonSocket.descriptor)
            metrics = result?.output ?? ""
            return metrics.contains("swift_auditd_remote_records_received_total{address=\"::ffff:127.0.0.1\"} 7\n")
        }, "\(metrics)")
        #expect(metrics.contains("\nswift_auditd_remote_clients_connected 1\n"), "\(metrics)")
    }

    @Test func withDistributeNetworkPluginsGetTheClientsRecords() throws {
        try Requirement.check(Requirement.daemonBinary() ?? Requirement.root.map { "\($0): plugin files must be owned by root" })
        let directory = try TemporaryDirectory("swift-auditd-central")
        defer { directory.remove() }
        let plugins = directory.appending("plugins.d")
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        let program = try CapturePlugin.program(in: directory)
        let captured = directory.appending("plugin.txt")
        let conf = try directory.write("active = yes\ndirection = out\npath = \(program)\ntype = always\nargs = \(captured)\nformat = string\n",
                                       to: "plugins.d/capture.conf")
        chmod(conf, 0o640)
        let port = try Self.freePort()
        let server = try Self.startServer(in: directory, port: port, extra: "plugin_dir = \(plugins)\ndistribute_network = yes\n")
        defer { _ = server.terminate() }
        let client = try TestClient(port: port)
        let sent = ["node=c1 type=USER msg=audit(1733300000.000:1): a=1", "type=SYSCALL msg=audit(1733300000.000:2): b=2"]
        for (index, record) in sent.enumerated() {
            try client.sendRecord(record, sequenceID: UInt32(index + 1))
            _ = try client.receiveReply()
        }
        #expect(eventually { ((try? directory.lines(of: "plugin.txt")) ?? []).filter { !$0.hasPrefix("type=DAEMON_") } == sent })
    }

    @Test func aReloadAppliesNewLimitsWithoutDroppingClientsAndNamesWhatNeedsARestart() throws {
        try Requirement.check(Requirement.daemonBinary())
        let (server, port) = try Self.startServer()
        defer { _ = server.terminate() }
        let first = try TestClient(port: port)
        try first.sendRecord("type=USER msg=audit(1733300000.000:1): before=reload", sequenceID: 1)
        #expect(try first.receiveReply().header.type == .ack)
        // A second connection from the same address is refused at tcp_max_per_addr = 1 (the default).
        let refused = try TestClient(port: port)
        #expect(eventually { refused.isClosedByServer() })

        let otherPort = try Self.freePort()
        try AuditdConf(in: server.directory, extra: """
            local_events = no
            tcp_listen_port = \(otherPort)
            tcp_max_per_addr = 2
            use_libwrap = no
            """).write(to: server.directory)
        server.signal(SIGHUP)
        #expect(eventually { server.lines().contains { $0.hasPrefix("type=DAEMON_CONFIG ") && $0.contains("res=success") } })
        #expect(eventually { server.diagnostics.contains("tcp_listen_port changed; it takes effect only at a restart") },
                "\(server.diagnostics)")
        // The connected client goes on; a second one from its address is now accepted.
        try first.sendRecord("type=USER msg=audit(1733300000.000:2): after=reload", sequenceID: 2)
        #expect(try first.receiveReply().header.type == .ack)
        let second = try TestClient(port: port)
        try second.sendRecord("type=USER msg=audit(1733300000.000:3): second=client", sequenceID: 1)
        #expect(try second.receiveReply().header.type == .ack)
        #expect(Self.clientLines(server) == ["type=USER msg=audit(1733300000.000:1): before=reload",
                                             "type=USER msg=audit(1733300000.000:2): after=reload",
                                             "type=USER msg=audit(1733300000.000:3): second=client"])
        #expect(server.lines().filter { $0.hasPrefix("type=DAEMON_ACCEPT ") && $0.hasSuffix(" res=success") }.count == 2)
        #expect(server.lines().contains { $0.hasPrefix("type=DAEMON_ACCEPT ") && $0.contains("op=dup ") })
    }

    @Test func aSuspendedLogAnswersRemoteLoggingSuspendedAndEveryAckedRecordIsInTheLog() throws {
        try Requirement.check(Requirement.daemonBinary())
        let (server, port) = try Self.startServer(extra: "max_log_file = 1\nmax_log_file_action = suspend\n")
        defer { _ = server.terminate() }
        let client = try TestClient(port: port)
        let padding = String(repeating: "x", count: 1000)
        var acknowledged: [String] = []
        var refusal: (header: RemoteFrameHeader, text: String)?
        for serial in 1...3000 {
            let record = "type=USER msg=audit(1733300000.000:\(serial)): pad=\(padding)"
            try client.sendRecord(record, sequenceID: UInt32(serial))
            let reply = try client.receiveReply()
            guard reply.header.type == .ack else {
                refusal = reply
                break
            }
            acknowledged.append(record)
        }
        #expect(refusal?.header.type == .diskError && refusal?.text == "remote logging suspended", "\(String(describing: refusal))")
        #expect(acknowledged.count > 900, "about 1 MiB was taken first")
        #expect(Self.clientLines(server) == acknowledged, "every acknowledged record, and only those, in the log")
    }

    @Test func withWriteLogsNoRecordsAreAcknowledgedAsAuditdDoes() throws {
        try Requirement.check(Requirement.daemonBinary())
        let (server, port) = try Self.startServer(extra: "write_logs = no\n")
        defer { _ = server.terminate() }
        let client = try TestClient(port: port)
        try client.sendRecord("type=USER msg=audit(1733300000.000:1): x=1", sequenceID: 1)
        let reply = try client.receiveReply()
        #expect(reply.header.type == .ack && reply.text.isEmpty)
    }

    /// The `flags:` of the daemon's descriptor open on `path` (/proc/PID/fdinfo), octal.
    static func logDescriptorFlags(pid: Int32, path: String) throws -> Int {
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        for descriptor in descriptors {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)"),
                  target == path,
                  let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(descriptor)", encoding: .utf8),
                  let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }),
                  let flags = Int(line.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces), radix: 8)
            else { continue }
            return flags
        }
        throw TestClient.Failure(description: "no descriptor of pid \(pid) open on \(path)")
    }
}
