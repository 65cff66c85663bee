import AuditRemote
import Foundation
import RemoteProtocol

/// The daemon's side of the listener in tests: keeps every record and DAEMON_ACCEPT/CLOSE text,
/// and acknowledges records at once (`autoAcknowledge`) or when the test says.
final class CollectingSink: RemoteRecordSink, @unchecked Sendable {
    // @unchecked: every stored property is behind `lock`.
    private let lock = NSLock()
    private var _records: [RemoteRecord] = []
    private var _listenerRecords: [ListenerRecord] = []
    private var _recordsSinceBatchEnded = 0
    let autoAcknowledge: Bool

    init(autoAcknowledge: Bool = true) {
        self.autoAcknowledge = autoAcknowledge
    }

    func receive(_ record: RemoteRecord) {
        lock.withLock {
            _records.append(record)
            _recordsSinceBatchEnded += 1
        }
        if autoAcknowledge { record.acknowledgement.complete() }
    }

    func receiveBatchEnded() {
        lock.withLock { _recordsSinceBatchEnded = 0 }
    }

    func write(_ record: ListenerRecord, client: RemoteClient?) {
        lock.withLock { _listenerRecords.append(record) }
    }

    var records: [RemoteRecord] { lock.withLock { _records } }
    /// Records received and not yet followed by the end of their batch (the daemon's inbox wakes
    /// its loop only then).
    var recordsSinceBatchEnded: Int { lock.withLock { _recordsSinceBatchEnded } }
    /// The records' texts, in arrival order.
    var texts: [String] { records.map { String(buffer: $0.bytes) } }
    /// `type=DAEMON_ACCEPT addr=...` and so on, in the order the listener asked for them.
    var listenerLines: [String] { lock.withLock { _listenerRecords.map(\.description) } }

    func listenerLines(port: UInt16) -> [String] { listenerLines.filter { $0.contains(" port=\(port) ") } }
}
