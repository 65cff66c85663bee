import RemoteProtocol

/// Where the listener sends what it receives: the daemon's side of the listener.
///
/// Both methods are called on the listener's event loop, and must return without waiting
/// (hand the record to a bounded queue, and complete its acknowledgement later from any thread).
/// Records of one connection come in the order they arrived; a connection's DAEMON_ACCEPT
/// comes before its first record and its DAEMON_CLOSE after its last.
public protocol RemoteRecordSink: AnyObject, Sendable {
    /// A whole record from a client. Until `record.acknowledgement` is completed the client waits
    /// (audisp-remote sends one record at a time), and a connection with
    /// `maximumPendingRecords` unanswered records is not read from.
    func receive(_ record: RemoteRecord)

    /// The records handed to `receive` since the last call are all there is for now (every whole
    /// frame of a read): the moment to wake whoever takes them, once for the batch rather than at
    /// its first record, when the rest are still being decoded.
    func receiveBatchEnded()

    /// A DAEMON_ACCEPT or DAEMON_CLOSE for the daemon to write as its own record, with auditd's
    /// text. `client` is nil for a refused connection, which never got a number.
    func write(_ record: ListenerRecord, client: RemoteClient?)
}

extension RemoteRecordSink {
    /// A sink that handles each record as it comes has nothing to do at the end of a batch.
    public func receiveBatchEnded() {}
}
