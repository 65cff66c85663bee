import AuditEvents
import AuditInterpretation
import AuditTestKit
import AuditdGoldenLogs
import Foundation
import Testing

/// What follow --format interpreted prints for a log: ausearch's grouping and order, ausearch's text.
func interpreted(_ log: [UInt8]) -> [UInt8] {
    var formatter = InterpretedEventFormatter()
    return interpreted(log, with: &formatter)
}

func interpreted(_ log: [UInt8], with formatter: inout InterpretedEventFormatter) -> [UInt8] {
    var order = AusearchEventOrder()
    var output: [UInt8] = []
    var buffer = LineBuffer()
    log.withUnsafeBytes { buffer.append($0) }
    while buffer.nextLine({ (line: UnsafeBufferPointer<UInt8>) -> Void in order.add(line: line) }) != nil {
        while let event = order.nextEvent() { formatter.format(event, into: &output) }
    }
    order.finish()
    while let event = order.nextEvent() { formatter.format(event, into: &output) }
    return output
}

/// What `ausearch -i --input FILE` prints for the same bytes (run here, in this locale and zone).
func ausearch(_ log: [UInt8]) throws -> [UInt8] {
    let directory = try TemporaryDirectory("swift-auditd-interpreted")
    defer { directory.remove() }
    let path = directory.appending("audit.log")
    try Data(log).write(to: URL(fileURLWithPath: path))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ausearch")
    process.arguments = ["-i", "--input", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return [UInt8](data)
}

/// The first line where two outputs differ, for a failure message.
func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    let left = a.split(separator: 0x0A, omittingEmptySubsequences: false)
    let right = b.split(separator: 0x0A, omittingEmptySubsequences: false)
    for index in 0..<max(left.count, right.count) {
        let l = index < left.count ? String(decoding: left[index], as: UTF8.self) : "<end>"
        let r = index < right.count ? String(decoding: right[index], as: UTF8.self) : "<end>"
        if l != r { return "line \(index + 1):\n  ausearch: \(l)\n  follow:   \(r)" }
    }
    return "same"
}

@Suite struct InterpretedEventFormatterTests {
    static let ausearchMissing = Requirement.executable("/usr/sbin/ausearch", package: "auditd")

    @Test(arguments: ["audit-enriched.log", "audit-raw.log"])
    func goldenLogsPrintAsAusearchPrintsThem(name: String) throws {
        try Requirement.check(Self.ausearchMissing)
        let log = try AuditdGoldenLog.bytes(name)
        let expected = try ausearch(log)
        let got = interpreted(log)
        #expect(expected.count > 100_000)
        let same = got == expected
        #expect(same, "\(name): \(firstDifference(expected, got))")
    }

    /// Lines that reach the corners of ausearch's walk over fields.
    static let corners = [
        // node names; a multi-key rule's keys (hex, joined by 0x01); an unknown type number
        "node=web1 type=SYSCALL msg=audit(1700000000.100:10): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1 a2=0 a3=0 items=1 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"cat\" exe=\"/usr/bin/cat\" key=6574630170617373",
        "node=web1 type=PROCTITLE msg=audit(1700000000.100:10): proctitle=636174002F6574632F686F73746E616D65",
        "type=UNKNOWN[1335] msg=audit(1700000000.200:11): op=x pid=5",
        // a value with a comma before the next space; a MAC label with commas at the end
        "type=CONFIG_CHANGE msg=audit(1700000000.300:12): auid=1000 ses=1 op=add_rule key=(null) list=4,5 res=1",
        "type=PATH msg=audit(1700000000.300:12): item=0 name=\"/tmp\" obj=system_u:object_r:tmp_t:s0:c1,c2",
        // a user message with msg='…', an acct with a trailing colon, a quoted value with spaces
        "type=USER_AUTH msg=audit(1700000000.400:13): pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=pam_unix acct=\"root\" exe=\"/usr/bin/su\" hostname=? addr=? terminal=pts/0 res=success'",
        "type=DAEMON_START msg=audit(1700000000.500:14): op=start ver=3.0.9 format=raw kernel=6.1 auid=4294967295 pid=1 uid=0 ses=4294967295 res=success",
        // a record whose fields hold no '='
        "type=LOGIN msg=audit(1700000000.600:15): no fields here",
        "type=KERNEL msg=audit(1700000000.700:16): state=initialized audit_enabled=1 res=1",
        "type=AVC msg=audit(1700000000.800:17): avc:  denied  { read write } for  pid=1 comm=\"x\" saddr=10.0.0.1 scontext=a:b:c:s0 tcontext=a:b:c:s0 tclass=file permissive=0",
        // ENRICHED with an unknown name: interpreted again from the number
        "type=SYSCALL msg=audit(1700000000.900:18): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=5555 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"sh\" exe=\"/bin/sh\" key=(null)\u{1D}ARCH=x86_64 SYSCALL=execve AUID=\"unknown(5555)\" UID=\"root\" GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" EGID=\"root\" SGID=\"root\" FSGID=\"root\"",
        "type=PROCTITLE msg=audit(1700000000.900:18): proctitle=7368",
        // a2 of open is a mode only when a1 has O_CREAT: ausearch reads a0 and a1 off the record first
        "type=SYSCALL msg=audit(1700000001.000:19): arch=c000003e syscall=2 success=yes exit=3 a0=7ffd0000 a1=241 a2=1b6 a3=0 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"touch\" exe=\"/bin/touch\" key=(null)",
        "type=PROCTITLE msg=audit(1700000001.000:19): proctitle=746F756368",
        "type=SYSCALL msg=audit(1700000001.100:20): arch=c000003e syscall=2 success=yes exit=3 a0=7ffd0000 a1=0 a2=1b6 a3=0 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"cat\" exe=\"/bin/cat\" key=(null)",
        "type=PROCTITLE msg=audit(1700000001.100:20): proctitle=636174",
    ]

    @Test func cornersOfTheFieldWalkPrintAsAusearchPrintsThem() throws {
        try Requirement.check(Self.ausearchMissing)
        let log = Array((Self.corners.joined(separator: "\n") + "\n").utf8)
        let expected = try ausearch(log)
        let got = interpreted(log)
        let same = got == expected
        #expect(same, "\(firstDifference(expected, got))")
    }

    @Test func theSameFieldsPrintTheSameWithTheCacheWarm() throws {
        let log = try AuditdGoldenLog.bytes("audit-enriched.log")
        var formatter = InterpretedEventFormatter()
        let cold = interpreted(log, with: &formatter)
        let warm = interpreted(log, with: &formatter)
        let same = cold == warm
        #expect(same, "\(firstDifference(cold, warm))")
    }

    /// The one difference known: ausearch prints an event only if its own search parsers
    /// (`src/ausearch-parse.c: extract_search_items`) accept every record, even with no search
    /// option given; a SYSCALL record without `syscall=` (or a0/a1, or the task fields), a PATH
    /// without `name=`, … make it drop the whole event silently. follow prints such events. Records
    /// the kernel and auditd write always pass; only hand-made or damaged lines differ.
    @Test func eventsAusearchsSearchParsersRejectArePrintedByFollowOnly() throws {
        try Requirement.check(Self.ausearchMissing)
        let log = Array("""
            type=SYSCALL msg=audit(1700000000.600:15): arch=c000003e success=yes
            type=PROCTITLE msg=audit(1700000000.600:15): proctitle=7368
            type=KERNEL msg=audit(1700000000.700:16): state=initialized audit_enabled=1 res=1

            """.utf8)
        let expected = String(decoding: try ausearch(log), as: UTF8.self)
        let got = String(decoding: interpreted(log), as: UTF8.self)
        #expect(!expected.contains(":15)"), "ausearch drops the event without syscall=")
        #expect(got.contains("type=SYSCALL msg=audit(") && got.contains(":15) : arch=x86_64 success=yes"))
        #expect(got.hasSuffix(expected), "the rest is the same")
    }
}
