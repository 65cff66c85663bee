import AuditDaemon
import AuditProtocol
import AuditTestKit
import Foundation
import Testing

/// The daemon's own records against auditd's texts. The expected strings are what Debian's
/// auditd 3.0.9 and libaudit1 3.0.9 write: the format strings in /usr/sbin/auditd (`strings`), and
/// `audit_format_signal_info` called on the same answers (see `matchesLibauditsOwnFormatting`).
@Suite struct DaemonRecordTests {
    /// A pid above the largest `pid_max` (2^22): no process has it, anywhere.
    static let gonePID: Int32 = 4_194_305
    let identity = ProcessIdentity(auid: 4_294_967_295, pid: 4242, uid: 0, session: 4_294_967_295)

    @Test func startNamesVersionFormatKernelAndTheDaemonItself() {
        let record = DaemonRecord.start(version: "0.1.0", format: "raw", kernel: "6.1.0-13-amd64", identity: identity)
        #expect(record.type == .daemonStart)
        #expect(record.text == "op=start ver=0.1.0 format=raw kernel=6.1.0-13-amd64 auid=4294967295 pid=4242 uid=0 ses=4294967295 res=success")
        var labelled = identity
        labelled.subject = "system_u:system_r:auditd_t:s0"
        #expect(DaemonRecord.start(version: "0.1.0", format: "enriched", kernel: String(repeating: "k", count: 80), identity: labelled).text
            == "op=start ver=0.1.0 format=enriched kernel=\(String(repeating: "k", count: 56)) auid=4294967295 pid=4242 uid=0 ses=4294967295 subj=system_u:system_r:auditd_t:s0 res=success")
    }

    @Test func abortNamesWhatFailed() {
        #expect(DaemonRecord.abort(.setPID, identity: identity).text == "op=set-pid auid=4294967295 pid=4242 uid=0 ses=4294967295 res=failed")
        #expect(DaemonRecord.abort(.setEnable, identity: identity).text == "op=set-enable auid=4294967295 pid=4242 uid=0 ses=4294967295 res=failed")
        #expect(DaemonRecord.abort(.setPID, identity: identity).type == .daemonAbort)
    }

    @Test func signalledRecordsCarryTheSendersAttribution() {
        let sender = SignalSender(auid: 1000, pid: 77, uid: 0, session: "3")
        #expect(DaemonRecord.end(sender: sender).text == "op=terminate auid=1000 uid=0 ses=3 pid=77 res=success")
        #expect(DaemonRecord.rotated(sender: sender).text == "op=rotate-logs auid=1000 uid=0 ses=3 pid=77 res=success")
        #expect(DaemonRecord.resumed(sender: sender).text == "op=resume-logging auid=1000 uid=0 ses=3 pid=77 res=success")
        #expect(DaemonRecord.reconfigurationFailed(sender: sender).text
            == "op=reconfigure state=no-change auid=1000 uid=0 ses=3 pid=77 res=failed")
        // auditd's successful reload text has no uid or ses, and always a subj.
        #expect(DaemonRecord.reconfigured(sender: sender).text == "op=reconfigure state=changed auid=1000 pid=77 subj=? res=success")
        var labelled = sender
        labelled.context = "unconfined_u:unconfined_r:unconfined_t:s0"
        #expect(DaemonRecord.end(sender: labelled).text
            == "op=terminate auid=1000 uid=0 ses=3 pid=77 subj=unconfined_u:unconfined_r:unconfined_t:s0 res=success")
        #expect(DaemonRecord.reconfigured(sender: labelled).text
            == "op=reconfigure state=changed auid=1000 pid=77 subj=unconfined_u:unconfined_r:unconfined_t:s0 res=success")
    }

    @Test func withoutAnAnswerTheTextsAreAuditdsMinusOneFallbacks() {
        #expect(DaemonRecord.end(sender: nil).text == "op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success")
        #expect(DaemonRecord.rotated(sender: nil).text == "op=rotate-logs auid=-1 pid=-1 subj=? res=failed")
        #expect(DaemonRecord.resumed(sender: nil).text == "op=resume-logging auid=-1 pid=-1 subj=? res=success")
        #expect(DaemonRecord.reconfigurationFailed(sender: nil).text == "op=reconfigure state=no-change auid=-1 pid=-1 subj=? res=failed")
    }

    @Test func theKernelsAnswerIsCompletedFromProcAsLibauditDoes() {
        // libaudit 3.0.9 for (uid 1000, pid 1): "op=terminate auid=1000 uid=0 ses=4294967295 pid=1 res=success"
        let initSender = SignalSender(SignalInfo(uid: 1000, pid: 1))
        #expect(initSender.text(operation: "terminate", result: "success") == "op=terminate auid=1000 uid=0 ses=4294967295 pid=1 res=success")
        // A sender that is gone: uid -1 printed unsigned, session unreadable.
        let gone = SignalSender(SignalInfo(uid: 4_294_967_295, pid: Self.gonePID, context: Array("system_u:r:x".utf8)))
        #expect(gone.text(operation: "terminate", result: "success")
            == "op=terminate auid=4294967295 uid=4294967295 ses=4294967295 pid=\(Self.gonePID) subj=system_u:r:x res=success")
        // Nobody has signalled the daemon yet: the kernel answers pid -1.
        #expect(SignalSender(SignalInfo(uid: 4_294_967_295, pid: -1)).text(operation: "rotate-logs", result: "success")
            == "op=rotate-logs auid=4294967295 uid=4294967295 ses=4294967295 pid=-1 res=success")
    }

    @Test func matchesLibauditsOwnFormatting() throws {
        // Compiles a ten-line C program against libaudit and asks it to format the same answers.
        try Requirement.check(Requirement.executable("/usr/bin/cc", package: "gcc"))
        let directory = try TemporaryDirectory("swift-auditd-libaudit")
        defer { directory.remove() }
        let source = try directory.write("""
            #include <libaudit.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            struct sig { uint32_t uid; int32_t pid; char ctx[64]; };
            int main(int argc, char **argv) {
                struct audit_reply reply; memset(&reply, 0, sizeof reply);
                struct sig info = { (uint32_t)strtoul(argv[1], 0, 10), atoi(argv[2]), "" };
                if (argc > 3) strcpy(info.ctx, argv[3]);
                reply.type = AUDIT_SIGNAL_INFO; reply.len = argc > 3 ? 24 + strlen(argv[3]) + 1 : 24;
                reply.signal_info = (void *)&info;
                char text[512]; audit_format_signal_info(text, sizeof text, "terminate", &reply, "success");
                puts(text); return 0;
            }
            """, to: "probe.c")
        let probe = directory.appending("probe")
        let build = try shell("/usr/bin/cc", [source, "-o", probe, "-laudit"])
        // libaudit-dev is what the package itself builds against, so a failure here is a real one.
        try #require(build.status == 0, "cannot build against libaudit: \(build.output)")
        let cases: [SignalInfo] = [
            SignalInfo(uid: 1000, pid: 1),
            SignalInfo(uid: 0, pid: getpid()),
            SignalInfo(uid: 4_294_967_295, pid: Self.gonePID),
            SignalInfo(uid: 5, pid: 1, context: Array("system_u:system_r:init_t:s0".utf8)),
        ]
        for info in cases {
            var arguments = ["\(info.uid)", "\(info.pid)"]
            if !info.context.isEmpty { arguments.append(String(decoding: info.context, as: UTF8.self)) }
            let libaudit = try shell(probe, arguments).output.trimmingCharacters(in: .newlines)
            #expect(SignalSender(info).text(operation: "terminate", result: "success") == libaudit)
        }
    }

    @Test func stampsAreWallClockMillisecondsWithARandomFirstSerialThenPlusOne() {
        var stamper = DaemonRecordStamper(clock: { (1_700_000_123, 4) })
        let first = String(decoding: stamper.payload(for: .end(sender: nil)), as: UTF8.self)
        let second = String(decoding: stamper.payload(for: .end(sender: nil)), as: UTF8.self)
        let serial = { (text: String) -> Int? in
            text.split(separator: ":").dropFirst().first.flatMap { Int($0.dropLast(1)) }
        }
        #expect(first.hasPrefix("audit(1700000123.004:"))
        let firstSerial = try! #require(serial(first))
        #expect((0..<10000).contains(firstSerial))
        #expect(serial(second) == firstSerial + 1)
        #expect(first.hasSuffix("): op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success"))

        // Real clocks: the stamp's time is now, cut to milliseconds.
        var live = DaemonRecordStamper(firstSerial: 9999)
        let before = Date().timeIntervalSince1970
        let text = String(decoding: live.payload(for: .end(sender: nil)), as: UTF8.self)
        let stamp = try! #require(Array(text.utf8).withUnsafeBytes { AuditStamp(parsing: $0) })
        #expect(abs(Double(stamp.time) / 1000 - before) < 2)
        #expect(stamp.serial == 9999)
    }

    @Test func aPayloadIsCutAtAuditdsMessageSize() {
        var stamper = DaemonRecordStamper(firstSerial: 1, clock: { (1, 0) })
        let long = DaemonRecord(.daemonConfig, String(repeating: "x", count: 1000))
        #expect(stamper.payload(for: long).count == DaemonRecordStamper.maximumPayload)
    }
}
