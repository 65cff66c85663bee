import NIOConcurrencyHelpers
import NIOCore
import RemoteProtocol

/// Where answers completed off the listener's event loop wait for it: one hop to the loop for a
/// whole batch of them instead of one per record.
///
/// The daemon answers the records of one write together (often hundreds, from several
/// connections). Handing each to the loop with its own `execute` cost a task, a wake-up of the
/// loop and a `write(2)` of one 16-byte reply per record: most of the server's CPU under a client
/// that pipelines (`make bench-remote`). Here the answers are appended under a lock, the first
/// one since the loop last looked schedules it, and the loop sets every reply before it lets each
/// connection send what is answered: one write per connection per batch.
final class AcknowledgementMailbox: @unchecked Sendable {
    // @unchecked: `posted` is guarded by its lock; `delivering` and `touched` are the loop's only,
    // and so is every answer's connection (see `RemoteAcknowledgement`).
    struct Answer: @unchecked Sendable {
        let connection: RemoteConnectionHandler
        let index: UInt64
        let reply: RemoteReply
    }

    let eventLoop: any EventLoop
    /// Answers not yet delivered, and whether a delivery is already scheduled.
    private let posted = NIOLockedValueBox<(answers: [Answer], scheduled: Bool)>(([], false))
    /// The loop's side of the swap: the arrays trade places, so neither grows again once warm.
    private var delivering: [Answer] = []
    private var touched: [RemoteConnectionHandler] = []

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Leaves `answers` for the loop and empties it (keeping its storage); the first answers
    /// since the loop's last delivery schedule one.
    func post(_ answers: inout [Answer]) {
        let schedule = posted.withLockedValue { posted in
            if posted.answers.isEmpty {
                // The usual case: the loop took everything before; trade arrays, copy nothing.
                swap(&posted.answers, &answers)
            } else {
                posted.answers.append(contentsOf: answers)
                answers.removeAll(keepingCapacity: true)
            }
            guard !posted.scheduled, !posted.answers.isEmpty else { return false }
            posted.scheduled = true
            return true
        }
        if schedule { eventLoop.execute { self.deliver() } }
    }

    /// On the loop: every reply set first, then each connection touched sends its answered
    /// replies once.
    private func deliver() {
        eventLoop.assertInEventLoop()
        posted.withLockedValue { posted in
            swap(&posted.answers, &delivering)
            posted.scheduled = false
        }
        for answer in delivering {
            let connection = answer.connection
            if connection.setReply(answer.reply, for: answer.index) { touched.append(connection) }
        }
        delivering.removeAll(keepingCapacity: true)
        for connection in touched { connection.sendAnswered() }
        touched.removeAll(keepingCapacity: true)
    }
}
