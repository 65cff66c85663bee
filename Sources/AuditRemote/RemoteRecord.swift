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
    let eventLoop: any EventLoop
    let connection: NIOLoopBound<RemoteConnectionHandler>
    let index: UInt64

    /// Sends `reply` (ACK, or DISKLOW/DISKFULL/DISKERROR with auditd's text) for this record.
    public func complete(_ reply: RemoteReply = .ack) {
        let connection = self.connection
        let index = self.index
        if eventLoop.inEventLoop {
            connection.value.acknowledge(index, with: reply)
        } else {
            eventLoop.execute { connection.value.acknowledge(index, with: reply) }
        }
    }
}
