import RemoteProtocol
import Testing

/// Byte-level fixtures: frames as audisp-remote 3.0.9 writes them (`AUDIT_RMW_PACK_HEADER`,
/// lib/private.h), little-endian whatever the machine.
@Suite struct RemoteFrameTests {
    /// MESSAGE, sequence id 2, "type=USER msg=audit(1.000:1): x" (31 bytes), as audisp-remote sends
    /// its first record (its counter starts at 1 and is bumped before each frame).
    static let record = Array("type=USER msg=audit(1.000:1): x".utf8)
    static let messageFrame: [UInt8] = [0xfe, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00,
                                        0x02, 0x00, 0x00, 0x00] + record
    static let heartbeatFrame: [UInt8] = [0xfe, 0x00, 0x00, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                          0x07, 0x01, 0x00, 0x00]

    private func parse(_ bytes: [UInt8]) throws(RemoteProtocolError) -> RemoteFrame.Parsed {
        try bytes.withUnsafeBytes { buffer in Result { () throws(RemoteProtocolError) in try RemoteFrame.parse(buffer) } }.get()
    }

    private func decodeAll(_ bytes: [UInt8], chunk: Int) throws(RemoteProtocolError) -> [RemoteFrameDecoder.Decoded] {
        var decoder = RemoteFrameDecoder()
        var frames: [RemoteFrameDecoder.Decoded] = []
        var offset = 0
        while offset < bytes.count {
            decoder.append(bytes[offset..<min(offset + chunk, bytes.count)])
            offset += chunk
            while let frame = try decoder.next() { frames.append(frame) }
        }
        try decoder.finish()
        return frames
    }

    @Test func headerIsLittleEndianWithTheMagicFirst() {
        let header = RemoteFrameHeader(type: .message, length: 0x1f, sequenceID: 2)
        #expect(header.bytes == Array(Self.messageFrame[0..<16]))
        #expect(RemoteFrameHeader(type: .diskError, length: 0x0102, sequenceID: 0x0a0b0c0d).bytes
            == [0xfe, 0x00, 0x00, 0xff, 0, 0, 0x02, 0x00, 0x00, 0x60, 0x02, 0x01, 0x0d, 0x0c, 0x0b, 0x0a])
    }

    @Test func aMessageIsOneRecordWithItsSequenceID() throws {
        guard case let .frame(frame) = try parse(Self.messageFrame) else { Issue.record("not a frame"); return }
        #expect(frame.header.type == .message)
        #expect(frame.header.sequenceID == 2)
        #expect(frame.size == Self.messageFrame.count)
        #expect(Array(Self.messageFrame[frame.record]) == Self.record)
    }

    @Test func oneTrailingNewlineIsNotPartOfTheRecord() throws {
        var bytes = RemoteFrameHeader(type: .message, length: 3, sequenceID: 9).bytes
        bytes += Array("ab\n".utf8)
        guard case let .frame(frame) = try parse(bytes) else { Issue.record("not a frame"); return }
        #expect(Array(bytes[frame.record]) == Array("ab".utf8))
    }

    @Test func aHeartbeatHasNoRecord() throws {
        guard case let .frame(frame) = try parse(Self.heartbeatFrame) else { Issue.record("not a frame"); return }
        #expect(frame.header.type == .heartbeat && frame.header.sequenceID == 0x107 && frame.record.isEmpty)
    }

    @Test func framesArriveWholeWhateverTheChunking() throws {
        let stream = Self.messageFrame + Self.heartbeatFrame + Self.messageFrame
        for chunk in [1, 2, 3, 7, 16, 17, 1000] {
            let frames = try decodeAll(stream, chunk: chunk)
            #expect(frames.map(\.header.type) == [.message, .heartbeat, .message], "chunk \(chunk)")
            #expect(frames[0].record == Self.record && frames[2].record == Self.record)
        }
    }

    @Test func anIncompleteFrameSaysHowMuchItNeeds() throws {
        #expect(try parse([]) == .incomplete(needed: 16))
        #expect(try parse(Array(Self.messageFrame[0..<11])) == .incomplete(needed: 16))
        #expect(try parse(Array(Self.messageFrame[0..<12])) == .incomplete(needed: 47))
        #expect(try parse(Array(Self.messageFrame.dropLast())) == .incomplete(needed: 47))
    }

    @Test func aWrongMagicIsRefusedAtItsFirstWrongByte() {
        #expect(throws: RemoteProtocolError.badMagic(received: [0x74])) { try parse(Array("t".utf8)) }
        #expect(throws: RemoteProtocolError.badMagic(received: [0xfe, 0x00, 0x01])) { try parse([0xfe, 0x00, 0x01]) }
        // An ASCII-format client's line.
        #expect(throws: RemoteProtocolError.badMagic(received: Array("type".utf8))) {
            try parse(Array("type=USER msg=audit(1.000:1): x\n".utf8))
        }
    }

    @Test func versionsOtherThanZeroAreRefused() {
        var frame = Self.messageFrame
        frame[4] = 1
        #expect(throws: RemoteProtocolError.unsupportedHeaderVersion(1)) { try parse(frame) }
        frame = Self.messageFrame
        frame[5] = 2
        #expect(throws: RemoteProtocolError.unsupportedMessageVersion(2)) { try parse(Array(frame[0..<6])) }
    }

    @Test func repliesAndUnknownTypesAreRefused() {
        var frame = Self.messageFrame
        frame[9] = 0x40  // ACK
        #expect(throws: RemoteProtocolError.unexpectedType(.ack, sequenceID: 2)) { try parse(frame) }
        #expect(throws: RemoteProtocolError.unexpectedType(.ack, sequenceID: nil)) { try parse(Array(frame[0..<10])) }
        frame = Self.messageFrame
        frame[6] = 2
        #expect(throws: RemoteProtocolError.unexpectedType(RemoteMessageType(rawValue: 2), sequenceID: 2)) { try parse(frame) }
    }

    @Test func aLengthPastTheLimitIsRefusedBeforeThePayloadArrives() {
        var header = RemoteFrameHeader(type: .message, length: 8971, sequenceID: 5).bytes
        #expect(throws: RemoteProtocolError.messageTooLong(length: 8971, sequenceID: 5)) { try parse(header) }
        #expect(throws: RemoteProtocolError.messageTooLong(length: 8971, sequenceID: nil)) { try parse(Array(header[0..<12])) }
        header = RemoteFrameHeader(type: .message, length: 8970, sequenceID: 5).bytes
        #expect(throws: Never.self) { try parse(header + [UInt8](repeating: 0x61, count: 8970)) }
    }

    @Test func aNulInARecordIsRefusedWithItsOffset() {
        var frame = Self.messageFrame
        frame[16 + 5] = 0
        #expect(throws: RemoteProtocolError.nulInRecord(offset: 5, sequenceID: 2)) { try parse(frame) }
    }

    @Test func anEmptyRecordIsRefused() {
        #expect(throws: RemoteProtocolError.emptyRecord(sequenceID: 3)) {
            try parse(RemoteFrameHeader(type: .message, length: 0, sequenceID: 3).bytes)
        }
        #expect(throws: RemoteProtocolError.emptyRecord(sequenceID: 3)) {
            try parse(RemoteFrameHeader(type: .message, length: 1, sequenceID: 3).bytes + [0x0a])
        }
    }

    @Test func aStreamEndingInsideAFrameIsTruncated() {
        #expect(throws: RemoteProtocolError.truncatedFrame(received: 20, expected: 47)) {
            _ = try decodeAll(Array(Self.messageFrame[0..<20]), chunk: 7)
        }
        #expect(throws: RemoteProtocolError.truncatedFrame(received: 3, expected: 16)) {
            _ = try decodeAll(Self.heartbeatFrame + [0xfe, 0x00, 0x00], chunk: 5)
        }
    }

    @Test func aFailedDecoderStaysFailed() throws {
        var decoder = RemoteFrameDecoder()
        decoder.append([0x00])
        #expect(throws: RemoteProtocolError.self) { try decoder.next() }
        decoder.append(Self.messageFrame)
        #expect(throws: RemoteProtocolError.badMagic(received: [0x00])) { try decoder.next() }
    }

    /// From `make fuzz`: 81 bytes of 0xff and a frame. A byte at a time, the wrong magic is seen at
    /// its first byte; whole, at its fourth: what the error shows differs, its kind does not.
    @Test func aWrongMagicIsTheSameFaultWhateverTheChunking() throws {
        let stream = [UInt8](repeating: 0xff, count: 81) + [0xfe, 0, 0, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]
        #expect(throws: RemoteProtocolError.badMagic(received: [0xff])) { _ = try decodeAll(stream, chunk: 1) }
        #expect(throws: RemoteProtocolError.badMagic(received: [0xff, 0xff, 0xff, 0xff])) { _ = try decodeAll(stream, chunk: 100) }
    }

    @Test func errorsSayWhatWasWrong() {
        #expect(RemoteProtocolError.messageTooLong(length: 9000, sequenceID: 4).description
            == "frame length 9000 is past the limit of 8970 bytes (sequence id 4)")
        #expect(RemoteProtocolError.badMagic(received: [0x74, 0x79]).description.hasPrefix("not a managed-format frame: magic fe 00 00 ff expected, got 74 79"))
        #expect(RemoteProtocolError.nulInRecord(offset: 5, sequenceID: 2).closeReason == "nul")
    }
}

@Suite struct RemoteReplyTests {
    @Test func anAckCarriesTheSequenceIDAndNoText() {
        #expect(RemoteReply.ack.bytes(sequenceID: 2) == [0xfe, 0x00, 0x00, 0xff, 0, 0, 0x00, 0x00, 0x00, 0x40, 0, 0, 2, 0, 0, 0])
    }

    @Test func errorRepliesCarryAuditdsText() {
        let full = RemoteReply.diskFull.bytes(sequenceID: 7)
        #expect(Array(full[0..<16]) == RemoteFrameHeader(type: .diskFull, length: 9, sequenceID: 7).bytes)
        #expect(Array(full[16...]) == Array("disk full".utf8))
        #expect(Array(RemoteReply.diskError.bytes(sequenceID: 1)[16...]) == Array("disk write error".utf8))
        #expect(RemoteReply.suspended.type == .diskError)
        #expect(Array(RemoteReply.suspended.bytes(sequenceID: 1)[16...]) == Array("remote logging suspended".utf8))
        #expect(RemoteReply.diskLow.bytes(sequenceID: 1).count == 16)
        #expect(RemoteReply.diskLow.type.rawValue == 0x5000_0001)
    }
}

@Suite struct ListenerRecordTests {
    @Test func textsAreAuditds() {
        #expect(ListenerRecord.accepted(address: "::ffff:127.0.0.1", port: 40000).description
            == "type=DAEMON_ACCEPT addr=::ffff:127.0.0.1 port=40000 res=success")
        #expect(ListenerRecord.refused(.dup, address: "10.0.0.2", port: 60).text == "op=dup addr=10.0.0.2 port=60 res=no")
        #expect(ListenerRecord.refused(.wrap, address: "::1", port: 1).text == "op=wrap addr=::1 port=1 res=no")
        #expect(ListenerRecord.closed(address: "::1", port: 2).description == "type=DAEMON_CLOSE addr=::1 port=2 res=success")
        #expect(ListenerRecord.closed(reason: "bad-magic", address: "::1", port: 2).text == "op=bad-magic addr=::1 port=2 res=no")
        #expect(ListenerRecord.Kind.accept.rawValue == 1224 && ListenerRecord.Kind.close.rawValue == 1225)
    }
}

@Suite struct RemoteListenerSettingsTests {
    @Test func defaultsAreAuditds() {
        let settings = RemoteListenerSettings()
        #expect(settings.port == nil && !settings.isEnabled)
        #expect(settings.listenQueue == 5 && settings.maxPerAddress == 1 && settings.useLibwrap)
        #expect(settings.clientPorts == 0...65535 && settings.clientMaxIdle == 0 && settings.transport == .tcp)
        #expect(!settings.distributeNetwork)
    }

    @Test func kerberosIsRefusedAtStart() {
        var settings = RemoteListenerSettings()
        settings.transport = .krb5
        #expect(settings.startupProblem == nil)  // no listener, nothing to refuse
        settings.port = 60
        #expect(settings.startupProblem?.hasPrefix("transport = KRB5 is not supported") == true)
    }

    @Test func onlyTheSocketAndTransportNeedARestart() {
        var old = RemoteListenerSettings()
        old.port = 60
        var new = old
        new.maxPerAddress = 4
        new.clientPorts = 1...1023
        new.clientMaxIdle = 30
        new.useLibwrap = false
        #expect(old.keywordsNeedingRestart(toApply: new).isEmpty)
        new.listenQueue = 64
        new.port = 61
        #expect(old.keywordsNeedingRestart(toApply: new) == ["tcp_listen_port", "tcp_listen_queue"])
        #expect(RemoteListenerSettings().keywordsNeedingRestart(toApply: new).isEmpty)
    }
}
