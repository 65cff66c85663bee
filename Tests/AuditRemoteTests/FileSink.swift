import AuditRemote
import Foundation
import NIOCore
import RemoteProtocol

/// The test server's daemon side: writes each record as a line to a file, then acknowledges it
/// (the order the daemon will keep: the ACK after the write), and keeps the listener's records.
final class FileSink: RemoteRecordSink, @unchecked Sendable {
    // @unchecked: the file is written on the listener's one event loop; `lock` guards the rest.
    private let file: FileHandle
    private let lock = NSLock()
    private var _listenerLines: [String] = []
    private var _written = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw TestClient.Failure(description: "cannot create \(path)")
        }
        file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    func receive(_ record: RemoteRecord) {
        var line = record.bytes
        line.writeInteger(UInt8(ascii: "\n"))
        file.write(Data(line.readableBytesView))
        lock.withLock { _written += 1 }
        record.acknowledgement.complete()
    }

    func write(_ record: ListenerRecord, client: RemoteClient?) {
        lock.withLock { _listenerLines.append(record.description) }
    }

    var written: Int { lock.withLock { _written } }
    var listenerLines: [String] { lock.withLock { _listenerLines } }
}
