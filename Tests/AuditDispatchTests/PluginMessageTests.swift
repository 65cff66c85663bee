import AuditDispatch
import AuditProtocol
import Testing

/// The bytes a plugin gets for one record, as auditd 3.0.9's dispatcher writes them.
@Suite struct PluginMessageTests {
    let builder = PluginMessageBuilder()

    func string(_ type: UInt16, _ text: String, _ version: DispatchProtocol) -> [UInt8] {
        Array(text.utf8).withUnsafeBytes { text in builder.string(type: AuditMessageType(type), text: text, protocol: version) { Array($0) } }
    }

    @Test func rawWithoutANodeGetsTheKernelsTextBehindTypeAndMsg() {
        let bytes = string(1300, "audit(1700000000.123:42): arch=c000003e syscall=110 ", .kernelText)
        // The kernel's text as it came: auditd's log trims the trailing space, its dispatcher does not.
        #expect(String(decoding: bytes, as: UTF8.self) == "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=110 \n")
    }

    @Test func anUnknownTypeIsNamedAsLibauditNamesIt() {
        #expect(String(decoding: string(2999, "audit(1.000:1): x", .kernelText), as: UTF8.self) == "type=UNKNOWN[2999] msg=audit(1.000:1): x\n")
    }

    @Test func theTextStopsAtANulAndInnerNewlinesBecomeSpaces() {
        #expect(String(decoding: string(1005, "audit(1.000:1): a\nb\u{0}hidden", .kernelText), as: UTF8.self) == "type=USER msg=audit(1.000:1): a b\n")
        #expect(String(decoding: string(1005, "node=n type=USER msg=audit(1.000:1): a\nb", .formattedLine), as: UTF8.self)
                == "node=n type=USER msg=audit(1.000:1): a b\n")
    }

    @Test func binaryIsTheDispatcherHeaderThenTheDataPaddedToAuditdsFixedSize() {
        let text = Array("audit(1.000:7): x=1".utf8)
        let (bytes, framed) = text.withUnsafeBytes { text in
            builder.binary(type: AuditMessageType(1300), text: text, protocol: .kernelText) { (Array($0), $1) }
        }
        #expect(framed == 16 + 8970)
        let header = stride(from: 0, to: 16, by: 4).map { offset in
            bytes[offset..<offset + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        }
        #expect(header == [0, 16, 1300, UInt32(text.count)])
        #expect(Array(bytes[16...]) == text)
        let enriched = Array("type=SYSCALL msg=audit(1.000:7): x=1\u{1D}ARCH=x86_64".utf8)
        let version = enriched.withUnsafeBytes { text in
            builder.binary(type: AuditMessageType(1300), text: text, protocol: .formattedLine) { bytes, _ in bytes.loadUnaligned(as: UInt32.self) }
        }
        #expect(version == 1, "AUDISP_PROTOCOL_VER2 is 1 in libaudit.h")
    }

    @Test func theProtocolIsAuditdsChoice() {
        #expect(DispatchProtocol.forLocalRecords(enriched: false, hasNodeName: false) == .kernelText)
        #expect(DispatchProtocol.forLocalRecords(enriched: true, hasNodeName: false) == .formattedLine)
        #expect(DispatchProtocol.forLocalRecords(enriched: false, hasNodeName: true) == .formattedLine)
    }
}

/// A plugin's queue: bounded in messages and bytes, in order across the ring's wrap, refusals counted.
@Suite struct PluginQueueTests {
    func append(_ queue: PluginQueue, _ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { queue.append($0) }
    }

    func takeFirst(_ queue: PluginQueue) -> String? {
        guard let message = queue.first() else { return nil }
        let text = String(decoding: Array(message.first) + Array(message.second), as: UTF8.self)
        queue.removeFirst()
        return text
    }

    @Test func messagesComeOutInOrderAcrossTheWrapAndAFullQueueRefusesAndCounts() {
        let queue = PluginQueue(messages: 1000, bytes: 16 * 1024)
        var expected: [String] = []
        var taken: [String] = []
        for round in 0..<50 {
            for index in 0..<40 {
                let text = "record \(round)-\(index) " + String(repeating: "x", count: (round * 7 + index) % 600)
                if append(queue, text) { expected.append(text) }
            }
            while taken.count < expected.count - 5, let text = takeFirst(queue) { taken.append(text) }
        }
        while let text = takeFirst(queue) { taken.append(text) }
        #expect(taken == expected)
        let counts = queue.counts
        #expect(counts.accepted == UInt64(expected.count))
        #expect(counts.accepted + counts.refused == 2000)
        #expect(counts.refused > 0, "16 KiB cannot hold 40 messages of up to 600 bytes and 5 left over")
        #expect(counts.queued == 0 && counts.queuedBytes == 0)
    }

    @Test func theMessageLimitIsQDepth() {
        let queue = PluginQueue(messages: 3, bytes: 1 << 20)
        #expect([append(queue, "a"), append(queue, "b"), append(queue, "c"), append(queue, "d")] == [true, true, true, false])
        #expect(queue.counts.refused == 1)
        #expect(queue.removeAll() == 3)
        #expect(append(queue, "e"))
    }
}
