import AuditEvents
import AuditTestKit
import AuditdGoldenLogs
import Foundation
import Testing

/// The JSON line of the one event `lines` make.
func json(_ lines: [String]) throws -> [String: Any] {
    var assembler = EventAssembler()
    var events = assemble(lines, into: &assembler)
    assembler.finish()
    while let event = assembler.nextEvent() { events.append(event) }
    try #require(events.count == 1)
    var encoder = EventJSONEncoder()
    var output: [UInt8] = []
    encoder.encode(events[0], into: &output)
    #expect(output.last == 0x0A)
    #expect(output.dropLast().contains(0x0A) == false, "one line per event")
    let object = try JSONSerialization.jsonObject(with: Data(output))
    return try #require(object as? [String: Any])
}

func records(_ object: [String: Any]) -> [[String: Any]] { object["records"] as? [[String: Any]] ?? [] }
func fields(_ record: [String: Any]) -> [String: String] { record["fields"] as? [String: String] ?? [:] }

@Suite struct EventJSONEncoderTests {
    @Test func theStampNodeAndKeysAreTopLevelFields() throws {
        let object = try json([
            "node=web1 type=SYSCALL msg=audit(1700000000.042:77): arch=c000003e syscall=257 key=\"etc-open\"",
            "node=web1 type=PROCTITLE msg=audit(1700000000.042:77): proctitle=636174002F6574632F686F73746E616D65",
        ])
        let stamp = try #require(object["stamp"] as? [String: Int])
        #expect(stamp == ["sec": 1_700_000_000, "ms": 42, "serial": 77])
        #expect(object["node"] as? String == "web1")
        #expect(object["keys"] as? [String] == ["etc-open"])
        #expect(records(object).map { $0["type"] as? String } == ["SYSCALL", "PROCTITLE"])
    }

    @Test func hexEncodedStringsAreDecodedAndArgvSplit() throws {
        let object = try json([
            "type=EXECVE msg=audit(1700000000.042:77): argc=3 a0=\"echo\" a1=68656C6C6F20776F726C64 a2=\"x\"",
            "type=PATH msg=audit(1700000000.042:77): item=0 name=2F746D702F612062 inode=5 mode=0100644",
            "type=PROCTITLE msg=audit(1700000000.042:77): proctitle=6563686F0068656C6C6F20776F726C64",
        ])
        let all = records(object)
        #expect(fields(all[0])["a1"] == "hello world")
        #expect(all[0]["argv"] as? [String] == ["echo", "hello world", "x"])
        #expect(fields(all[1])["name"] == "/tmp/a b")
        #expect(fields(all[1])["mode"] == "0100644", "a number that looks like hex is not decoded")
        #expect(fields(all[2])["proctitle"] == "echo\u{0}hello world")
        #expect(all[2]["argv"] as? [String] == ["echo", "hello world"])
    }

    @Test func socketAddressesAreParsed() throws {
        let inet = try json(["type=SOCKADDR msg=audit(1700000000.042:77): saddr=020000357F0000010000000000000000"])
        func address(_ object: [String: Any]) -> [String: String] {
            (records(object)[0]["saddr"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
        }
        #expect(address(inet) == ["family": "inet", "address": "127.0.0.1", "port": "53"])
        let inet6 = try json(["type=SOCKADDR msg=audit(1700000000.042:78): saddr=0A000009000000000000000000000000000000000000000100000000"])
        #expect(address(inet6) == ["family": "inet6", "address": "::1", "port": "9"])
        let local = try json(["type=SOCKADDR msg=audit(1700000000.042:79): saddr=01002F72756E2F736F636B00"])
        #expect(address(local) == ["family": "local", "path": "/run/sock"])
        let abstract = try json(["type=SOCKADDR msg=audit(1700000000.042:80): saddr=0100006162"])
        #expect(address(abstract) == ["family": "local", "path": "@ab"])
        let netlink = try json(["type=SOCKADDR msg=audit(1700000000.042:81): saddr=100000000000000000000000"])
        #expect(address(netlink) == ["family": "netlink", "pid": "0", "groups": "0"])
    }

    @Test func enrichedNamesComeUnderTheirOwnObject() throws {
        let object = try json(["type=USER_LOGIN msg=audit(1700000000.042:77): pid=1 uid=0 auid=1000 msg='op=login acct=\"bob\" res=success'\u{1D}UID=\"root\" AUID=\"bob\""])
        let record = records(object)[0]
        #expect(record["enriched"] as? [String: String] == ["UID": "root", "AUID": "bob"])
        #expect(fields(record)["msg"] == "op=login acct=\"bob\" res=success")
    }

    @Test func invalidBytesAreEscapedNotDropped() throws {
        var assembler = EventAssembler()
        // "a", an invalid byte, a broken pair, a quote, a backslash, a control character, "é" (hex-encoded,
        // as the kernel writes a name holding a quote or a control character)
        let line = Array("type=PATH msg=audit(1700000000.042:77): name=61FFC328225C01C3A9 item=0".utf8)
        line.withUnsafeBufferPointer { _ = assembler.add(line: $0) }
        assembler.finish()
        let next = assembler.nextEvent()
        let event = try #require(next)
        var encoder = EventJSONEncoder()
        var output: [UInt8] = []
        encoder.encode(event, into: &output)
        #expect(String(validating: output, as: UTF8.self) != nil, "the JSON text is valid UTF-8")
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains(#""name":"a\udcff\udcc3(\"\\\u0001é""#))
    }

    @Test func everyGoldenEventIsOneLineOfValidJSON() throws {
        for name in ["audit-enriched.log", "audit-raw.log"] {
            let log = try AuditdGoldenLog.bytes(name)
            var buffer = LineBuffer()
            log.withUnsafeBytes { buffer.append($0) }
            var assembler = EventAssembler()
            var encoder = EventJSONEncoder()
            var output: [UInt8] = []
            var events = 0
            func drain() {
                while let event = assembler.nextEvent() {
                    encoder.encode(event, into: &output)
                    events += 1
                }
            }
            while buffer.nextLine({ (line: UnsafeBufferPointer<UInt8>) -> Void in assembler.add(line: line) }) != nil { drain() }
            assembler.finish()
            drain()
            let lines = output.split(separator: 0x0A)
            #expect(lines.count == events)
            var records = 0
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                records += (object["records"] as? [Any])?.count ?? 0
            }
            #expect(records == log.split(separator: 0x0A).count, "\(name): every record is in the JSON")
        }
    }

    @Test func pythonsJSONParsesEveryGoldenLine() throws {
        try Requirement.check(Requirement.executable("/usr/bin/python3", package: "python3"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var output: [UInt8] = []
        var encoder = EventJSONEncoder()
        var assembler = EventAssembler()
        var lines = try AuditdGoldenLog.bytes("audit-enriched.log").split(separator: 0x0A).map(Array.init)
        lines.append(Array("type=PATH msg=audit(1800000000.000:1): name=FFFE80 item=0".utf8))
        for line in lines { line.withUnsafeBufferPointer { _ = assembler.add(line: $0) } }
        assembler.finish()
        while let event = assembler.nextEvent() { encoder.encode(event, into: &output) }
        let path = directory.appending("events.json")
        try Data(output).write(to: URL(fileURLWithPath: path))
        let script = """
            import json, sys
            count = 0
            for raw in open(sys.argv[1], 'rb'):
                event = json.loads(raw)
                count += 1
            last = event['records'][0]['fields']['name'].encode('utf-8', 'surrogateescape')
            assert last == b'\\xff\\xfe\\x80', last
            print(count)
            """
        let result = try shell("/usr/bin/python3", ["-c", script, path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(output.split(separator: 0x0A).count))
    }
}
