import NIOCore
import RemoteProtocol

/// One client's connection: frames in, records to the sink, replies out in arrival order.
///
/// Lives on the listener's one event loop, like everything the registry holds. A frame the
/// client gets wrong closes the connection with a DAEMON_CLOSE naming the fault; nothing of that
/// frame, and nothing after it, reaches the sink. A connection whose records wait for
/// `maximumPendingRecords` acknowledgements is not read from until some are answered, so a fast
/// or hostile client fills its own socket buffer, not the server's memory.
final class RemoteConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let client: RemoteClient
    private let sink: any RemoteRecordSink
    /// Where answers given off the loop wait for it (the listener's, for every connection).
    let mailbox: AcknowledgementMailbox
    private weak var registry: ConnectionRegistry?
    private var context: ChannelHandlerContext?
    /// Bytes received and not yet a whole frame.
    private var unread: ByteBuffer?
    /// Whether `unread` is `joinBuffer`'s storage (parts of a split frame joined) rather than
    /// a receive buffer of swift-nio's.
    private var unreadIsJoined = false
    /// The buffer split frames are joined in, kept once emptied (when no bigger than two frames):
    /// reused while no record sliced from it is still held (`clear()` allocates only then).
    private var joinBuffer: ByteBuffer?
    /// Frames in arrival order whose replies have not left: the record's number, its sequence id,
    /// and the reply once the sink gave it.
    private var unanswered = CircularBuffer<(index: UInt64, sequenceID: UInt32, reply: RemoteReply?)>()
    private var nextIndex: UInt64 = 0
    private var readHeld = false
    private var processing = false
    private var replyBuffer: ByteBuffer?
    /// Set by the mailbox's delivery when it gave this connection a reply, until it sends them.
    private var awaitingSend = false
    /// The DAEMON_CLOSE to write when the connection ends; auditd's plain one unless a fault or
    /// the registry chose another.
    private var closeRecord: ListenerRecord?
    private var closed = false
    /// When the client last sent anything, or the sink last answered it.
    private(set) var lastActivity = NIODeadline.now()
    private(set) var recordsReceived: UInt64 = 0
    private(set) var repliesSent: UInt64 = 0
    let connectedAt = NIODeadline.now()

    init(client: RemoteClient, sink: any RemoteRecordSink, mailbox: AcknowledgementMailbox, registry: ConnectionRegistry) {
        self.client = client
        self.sink = sink
        self.mailbox = mailbox
        self.registry = registry
        maximumPending = registry.configuration.maximumPendingRecords
    }

    var pendingRecords: Int { unanswered.count }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        var incoming = unwrapInboundIn(data)
        lastActivity = .now()
        if unread == nil || unread!.readableBytes == 0 {
            unread = incoming
        } else if unreadIsJoined {
            // The bytes already taken go first: a stream whose reads keep ending inside a frame
            // would otherwise grow this buffer by all it carried.
            unread!.discardReadBytes()
            unread!.writeBuffer(&incoming)
        } else {
            // A frame split across reads: joined in this connection's own buffer, not by writing
            // to swift-nio's (whose pool holds it too, so each write copied it to a new allocation:
            // about one per record for audisp-remote, which sends a header and its record with
            // two write(2)s).
            var joined = joinBuffer.take() ?? context.channel.allocator.buffer(capacity: 4096)
            joined.clear()
            joined.writeBuffer(&unread!)
            joined.writeBuffer(&incoming)
            unread = joined
            unreadIsJoined = true
        }
        process(context: context)
    }

    /// `maximumPendingRecords`, read once: a reload keeps it, and the decoder asks it per frame.
    private let maximumPending: Int

    /// Frames out of what has arrived while there is room, replies for what is answered, and
    /// reading again once there is room.
    private func process(context: ChannelHandlerContext) {
        // A sink may acknowledge inside `receive`, which comes back here: the outer call picks
        // its reply up, and frames are decoded by one loop only.
        guard !processing else { return }
        processing = true
        defer { processing = false }
        // Answered replies leave first: each makes room for one more frame of those already read.
        sendReplies(context: context)
        let received = recordsReceived
        while decodeFrames(context: context) {
            sendReplies(context: context)
        }
        // Every frame of this read is handed over: the sink's consumer is woken once for them.
        if recordsReceived != received { sink.receiveBatchEnded() }
        if readHeld, !closed, unanswered.count < maximumPending {
            readHeld = false
            context.read()
        }
    }

    /// Whether any frame was decoded.
    private func decodeFrames(context: ChannelHandlerContext) -> Bool {
        // Frames are taken out of a local copy, put back once: one reference to count per read,
        // not per frame. Holding none to a consumed receive buffer lets swift-nio reuse it for
        // the next read (the sink's slices, while it keeps them, hold it too).
        guard var buffer = unread, buffer.readableBytes > 0 else { return false }
        unread = nil
        let joined = unreadIsJoined
        defer {
            if buffer.readableBytes > 0 {
                unread = buffer
            } else {
                unreadIsJoined = false
                // Kept only as big as two whole frames: a burst joined in a bigger one is not
                // held for the connection's life.
                if joined, buffer.capacity <= 2 * (RemoteFrameHeader.size + RemoteFrameHeader.maximumMessageLength) {
                    joinBuffer = buffer
                }
            }
        }
        var decoded = false
        while !closed, unanswered.count < maximumPending, buffer.readableBytes > 0 {
            let parsed: RemoteFrame.Parsed
            do {
                parsed = try buffer.withUnsafeReadableBytes { bytes in
                    Result { () throws(RemoteProtocolError) in try RemoteFrame.parse(bytes) }
                }.get()
            } catch {
                refuse(error, context: context)
                return decoded
            }
            guard case let .frame(frame) = parsed else { return decoded }
            decoded = true
            let index = nextIndex
            nextIndex += 1
            let bytes = buffer.getSlice(at: buffer.readerIndex + frame.record.lowerBound, length: frame.record.count)!
            buffer.moveReaderIndex(forwardBy: frame.size)
            if frame.header.type == .heartbeat {
                // auditd answers a heartbeat at once; here it waits behind earlier records' replies.
                unanswered.append((index, frame.header.sequenceID, .ack))
            } else {
                unanswered.append((index, frame.header.sequenceID, nil))
                recordsReceived += 1
                let acknowledgement = RemoteAcknowledgement(connection: self, index: index)
                sink.receive(RemoteRecord(sequenceID: frame.header.sequenceID, bytes: bytes,
                                          acknowledgement: acknowledgement))
            }
        }
        return decoded
    }

    /// The sink's answer for record `index`, given on the loop. Replies leave in arrival order.
    func acknowledge(_ index: UInt64, with reply: RemoteReply) {
        guard setReply(reply, for: index) else { return }
        sendAnswered()
    }

    /// Notes the answer for record `index` without sending it; returns whether this connection
    /// now has replies to send that it had not been told of (`sendAnswered` is due).
    func setReply(_ reply: RemoteReply, for index: UInt64) -> Bool {
        // Frames get consecutive numbers and leave from the front: the record's place is its
        // distance from the first one waiting (none: its connection already answered or closed).
        guard context != nil, !closed, let first = unanswered.first, index >= first.index,
              index - first.index < UInt64(unanswered.count) else { return false }
        let position = unanswered.index(unanswered.startIndex, offsetBy: Int(index - first.index))
        guard unanswered[position].reply == nil else { return false }
        unanswered[position].reply = reply
        guard !awaitingSend else { return false }
        awaitingSend = true
        return true
    }

    /// Sends the replies answered so far that are next in arrival order, and reads again if that
    /// made room.
    func sendAnswered() {
        awaitingSend = false
        guard let context, !closed else { return }
        lastActivity = .now()
        process(context: context)
    }

    /// The answered replies at the head of the queue, in one buffer and one write. The buffer is
    /// kept and reused: once the socket has taken its bytes it is this handler's alone again, and
    /// clearing it allocates nothing.
    private func sendReplies(context: ChannelHandlerContext) {
        guard unanswered.first?.reply != nil else { return }
        var buffer = replyBuffer ?? context.channel.allocator.buffer(capacity: 256)
        replyBuffer = nil
        buffer.clear()
        while let first = unanswered.first, let reply = first.reply {
            unanswered.removeFirst()
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: reply.size) { destination in
                reply.write(sequenceID: first.sequenceID, to: destination)
                return reply.size
            }
            repliesSent += 1
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        replyBuffer = buffer
    }

    func read(context: ChannelHandlerContext) {
        if unanswered.count >= maximumPending {
            readHeld = true
        } else {
            context.read()
        }
    }

    private func refuse(_ error: RemoteProtocolError, context: ChannelHandlerContext) {
        registry?.logger.warning("client \(client) sent a bad frame, closing: \(error)")
        close(with: .closed(reason: error.closeReason, address: client.address, port: client.port))
    }

    /// Closes the connection; `record` is the DAEMON_CLOSE it ends with.
    func close(with record: ListenerRecord) {
        guard !closed else { return }
        closeRecord = record
        closed = true
        context?.close(promise: nil)
    }

    /// The server stops: auditd sends ENDING (sequence id 0) to every client, then closes it.
    /// Returns when the connection is closed.
    func end() -> EventLoopFuture<Void>? {
        guard let context else { return nil }
        let closeFuture = context.channel.closeFuture
        guard !closed else { return closeFuture }
        let reply = RemoteReply.ending
        var buffer = context.channel.allocator.buffer(capacity: reply.size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: reply.size) { destination in
            reply.write(sequenceID: 0, to: destination)
            return reply.size
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        close(with: .closed(address: client.address, port: client.port))
        return closeFuture
    }

    func channelInactive(context: ChannelHandlerContext) {
        if closeRecord == nil, let unread, unread.readableBytes > 0 {
            // A frame cut mid-way: auditd would log the part as a record; nothing of it goes on
            // here. (Whole frames left unread while the sink was behind are not handed on either:
            // they can no longer be answered, and the client sends them again.)
            let error = unread.withUnsafeReadableBytes { bytes in
                Result { () throws(RemoteProtocolError) in
                    var rest = bytes
                    while case let .frame(frame) = try RemoteFrame.parse(rest) {
                        rest = UnsafeRawBufferPointer(rebasing: rest[frame.size...])
                    }
                    try RemoteFrame.checkEnd(remaining: rest)
                }
            }
            if case let .failure(error) = error {
                registry?.logger.warning("client \(client) closed the connection inside a frame: \(error)")
                closeRecord = .closed(reason: error.closeReason, address: client.address, port: client.port)
            }
        }
        closed = true
        registry?.remove(self)
        sink.write(closeRecord ?? .closed(address: client.address, port: client.port), client: client)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // auditd: "client %s socket closed unexpectedly"; its DAEMON_CLOSE is the plain one.
        registry?.logger.warning("client \(client) socket closed unexpectedly: \(error)")
        context.close(promise: nil)
    }
}
