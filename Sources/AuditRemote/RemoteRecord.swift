import NIOCore
import RemoteProtocol

/// One record a client sent, as the listener hands it to its sink.
public struct RemoteRecord: Sendable {
    public let client: RemoteClient
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
public struct RemoteAcknowledgement: Sendable {
    let mailbox: AcknowledgementMailbox
    let connection: NIOLoopBound<RemoteConnectionHandler>
    let index: UInt64

    /// Sends `reply` (ACK, or DISKLOW/DISKFULL/DISKERROR with auditd's text) for this record.
    public func complete(_ reply: RemoteReply = .ack) {
        if mailbox.eventLoop.inEventLoop {
            connection.value.acknowledge(index, with: reply)
        } else {
            mailbox.post(CollectionOfOne(answer(reply)))
        }
    }

    /// Sends `reply` for each of `acknowledgements`, taken off the caller's thread in one hop to
    /// the listener's loop, with one write per connection: what the daemon calls after a write.
    public static func complete(_ acknowledgements: some Collection<RemoteAcknowledgement>, with reply: RemoteReply = .ack) {
        guard let mailbox = acknowledgements.first?.mailbox else { return }
        if mailbox.eventLoop.inEventLoop {
            for acknowledgement in acknowledgements { acknowledgement.complete(reply) }
        } else {
            // One listener, one mailbox: every acknowledgement a daemon holds comes from it.
            precondition(acknowledgements.allSatisfy { $0.mailbox === mailbox }, "acknowledgements of two listeners")
            mailbox.post(acknowledgements.lazy.map { $0.answer(reply) })
        }
    }

    private func answer(_ reply: RemoteReply) -> AcknowledgementMailbox.Answer {
        .init(connection: connection, index: index, reply: reply)
    }
}
