import NIOCore
import RemoteProtocol

/// One record a client sent, as the listener hands it to its sink.
public struct RemoteRecord: Sendable {
    /// Who sent it (the connection's, not a copy: a record is copied as it moves to the daemon's
    /// thread, and each stored reference is one more count to keep on the way).
    public var client: RemoteClient { acknowledgement.connection.client }
    /// The frame's sequence id, which the reply carries back.
    public let sequenceID: UInt32
    /// The record as the client sent it (its `node=` prefix included when it has one), without
    /// its trailing newline; never empty, never holding a NUL. A slice of the receive buffer,
    /// not a copy.
    public let bytes: ByteBuffer
    /// Answers the client once the record is as durable as the configuration asks.
    public let acknowledgement: RemoteAcknowledgement
}

/// The answer the listener owes a client for one record. The daemon completes it once the
/// record is as durable as `flush` says (after the write for `incremental_async`, after the
/// sync for `data` and `sync`): the client holds the record until then and sends it again if
/// the server goes away first, so an ACK is a promise that the record is on disk.
///
/// Safe to complete from any thread; completing twice, or after the connection closed, does
/// nothing. Replies leave in the order the records arrived, whatever order they complete in.
public struct RemoteAcknowledgement: @unchecked Sendable {
    // @unchecked: the connection's state is touched only on the listener's loop (`complete`
    // calls it there or goes through the mailbox, which hops there); off the loop only its
    // constants, `client` and `mailbox`, are read.
    let connection: RemoteConnectionHandler
    let index: UInt64

    var mailbox: AcknowledgementMailbox { connection.mailbox }

    /// Sends `reply` (ACK, or DISKLOW/DISKFULL/DISKERROR with auditd's text) for this record.
    public func complete(_ reply: RemoteReply = .ack) {
        if mailbox.eventLoop.inEventLoop {
            connection.acknowledge(index, with: reply)
        } else {
            var one = [answer(reply)]
            mailbox.post(&one)
        }
    }

    fileprivate func answer(_ reply: RemoteReply) -> AcknowledgementMailbox.Answer {
        .init(connection: connection, index: index, reply: reply)
    }
}

/// Replies given together (the records one write made durable), sent with one hop to the
/// listener's loop and one reply write per connection, instead of a hop and a write per record.
/// Reused: `send` empties it and keeps its storage.
public struct RemoteReplies: Sendable {
    private var answers: [AcknowledgementMailbox.Answer] = []
    private var mailbox: AcknowledgementMailbox?

    public init() {}

    public var isEmpty: Bool { answers.isEmpty }

    /// `reply` for the record of `acknowledgement`, to go with the others at `send`.
    public mutating func append(_ acknowledgement: RemoteAcknowledgement, _ reply: RemoteReply = .ack) {
        // One listener, one loop: a daemon holds the acknowledgements of one listener only.
        precondition(mailbox == nil || mailbox === acknowledgement.mailbox, "replies for two listeners in one batch")
        mailbox = acknowledgement.mailbox
        answers.append(acknowledgement.answer(reply))
    }

    /// Hands every reply appended to the listener's loop; afterwards the batch is empty.
    public mutating func send() {
        guard let mailbox, !answers.isEmpty else { return }
        mailbox.post(&answers)
        self.mailbox = nil
    }
}
