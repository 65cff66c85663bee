import AuditRemote
import NIOCore
import RemoteProtocol

/// The clients' records appended to the log and not yet acknowledged, each with the line
/// ordinal (`AuditLogWriter.linesAppended`) it got: once `recordsWritten` reaches it, the write
/// that carried the line has returned, and the record is as durable as `flush` says. With
/// `flush = data` or `sync` the log is opened `O_DSYNC` / `O_SYNC`, so that write returned only once
/// the data was on the disk; with `none`, `incremental` and `incremental_async` it is in the page
/// cache (a crash of the daemon loses nothing; one of the machine may).
///
/// auditd 3.0.9 answers as soon as `write_to_log` has `fprintf`ed the line into stdio's buffer
/// (src/auditd-event.c), so a crash of auditd loses records every client holds as delivered.
struct RemoteAcknowledgements {
    private var pending = CircularBuffer<(line: UInt64, acknowledgement: RemoteAcknowledgement)>(initialCapacity: 256)
    /// Replies sent: ACK (or DISKLOW) after the write, and refusals.
    private(set) var acknowledged: UInt64 = 0
    private(set) var refused: UInt64 = 0
    /// The replies of one write, sent together; kept for its storage.
    private var replies = RemoteReplies()

    var isEmpty: Bool { pending.isEmpty }
    var count: Int { pending.count }

    /// The record appended as line `line` is answered once that line is written.
    mutating func await(line: UInt64, _ acknowledgement: RemoteAcknowledgement) {
        pending.append((line, acknowledgement))
    }

    /// Answers every record whose line is among the `written` lines, oldest first, with `reply`:
    /// all of them in one hop to the listener's loop (one reply write per connection, not one
    /// per record).
    mutating func complete(written: UInt64, with reply: RemoteReply) {
        while let first = pending.first, first.line <= written {
            replies.append(pending.removeFirst().acknowledgement, reply)
            acknowledged += 1
        }
        replies.send()
    }

    /// A record the log did not take: answered at once with why (auditd's DISKFULL, DISKERROR or
    /// "remote logging suspended"), so the client keeps it and tries again.
    mutating func refuse(_ acknowledgement: RemoteAcknowledgement, with reply: RemoteReply) {
        acknowledgement.complete(reply)
        refused += 1
    }
}
