import AuditTestKit
import Foundation
import Synchronization
import Testing
@testable import OTLPExporter

@Suite struct DurableQueueTests {
    func events(_ range: Range<Int>, size: Int = 40) -> [QueuedEvent] {
        range.map { QueuedEvent(observedUnixNanoseconds: UInt64($0), text: "type=USER msg=audit(1.000:\($0)): " + String(repeating: "x", count: size)) }
    }

    @Test func eventsLeaveOnlyWhenTheirBatchIsCommitted() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        var queue: DurableQueue? = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
        try queue!.append(events(0..<10))
        let first = try #require(try queue!.takeBatch(maxEvents: 4, maxBytes: 1 << 20))
        #expect(first.events.map(\.observedUnixNanoseconds) == [0, 1, 2, 3])
        try queue!.commit()
        let second = try #require(try queue!.takeBatch(maxEvents: 4, maxBytes: 1 << 20))
        #expect(second.events.map(\.observedUnixNanoseconds) == [4, 5, 6, 7])
        // The process dies here: the batch in flight was not committed, so it comes back.
        queue = nil
        let reopened = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
        #expect(reopened.eventCount == 6)
        let again = try #require(try reopened.takeBatch(maxEvents: 100, maxBytes: 1 << 20))
        #expect(again.events.map(\.observedUnixNanoseconds) == Array(4..<10).map(UInt64.init))
        #expect(again.events[0].text == events(4..<5)[0].text)
    }

    @Test func aTornLastFrameIsCutOffAtTheNextStart() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        do {
            let queue = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
            try queue.append(events(0..<3))
            try queue.sync()
        }
        let segment = directory.appending("segments/00000000000000000001.seg")
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data([200, 0, 0, 0, 1, 2, 3, 4, 5]))  // a frame header promising 200 bytes, and 1 of them
        try handle.close()
        let queue = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
        #expect(queue.eventCount == 3)
        #expect(queue.notes.count == 1)
        try queue.append(events(3..<4))
        let batch = try #require(try queue.takeBatch(maxEvents: 10, maxBytes: 1 << 20))
        #expect(batch.events.map(\.observedUnixNanoseconds) == [0, 1, 2, 3])
    }

    @Test func aFullQueueDropsItsOldestUnsentEventsAndCountsThem() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        let queue = try DurableQueue(directory: directory.path, maxBytes: 65_536, fullAction: .dropOldest)
        let many = events(0..<100, size: 1000)
        let dropped = try queue.append(many)
        #expect(dropped > 0)
        #expect(queue.droppedEvents == dropped)
        #expect(queue.byteCount <= 65_536)
        let batch = try #require(try queue.takeBatch(maxEvents: 1000, maxBytes: 1 << 20))
        #expect(batch.events.first?.observedUnixNanoseconds == UInt64(dropped))
        #expect(batch.events.last?.observedUnixNanoseconds == 99)
    }

    @Test func aFullQueueDropsTheNewestWhenToldTo() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        let queue = try DurableQueue(directory: directory.path, maxBytes: 65_536, fullAction: .dropNewest)
        let dropped = try queue.append(events(0..<100, size: 1000))
        let batch = try #require(try queue.takeBatch(maxEvents: 1000, maxBytes: 1 << 20))
        #expect(batch.events.first?.observedUnixNanoseconds == 0)
        #expect(batch.count + dropped == 100)
    }

    @Test(.timeLimit(.minutes(1)))
    func aBlockingQueueHoldsTheAppenderUntilACommitMakesRoom() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        let queue = try DurableQueue(directory: directory.path, maxBytes: 65_536, fullAction: .block)
        try queue.append(events(0..<60, size: 1000))
        let appended = Mutex(false)
        let appender = Thread {
            _ = try? queue.append(events(60..<70, size: 1000))
            appended.withLock { $0 = true }
        }
        appender.start()
        let batch = try #require(try queue.takeBatch(maxEvents: 30, maxBytes: 1 << 20))
        #expect(!appended.withLock { $0 })
        try queue.commit()
        #expect(eventually { appended.withLock { $0 } })
        #expect(queue.droppedEvents == 0)
        #expect(queue.eventCount == 40)
        _ = batch
    }

    @Test func segmentsRollAndAreDeletedOnceCommitted() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        let queue = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
        try queue.append(events(0..<400, size: 1000))  // segments of 128 KiB: several of them
        let segments = { try FileManager.default.contentsOfDirectory(atPath: directory.appending("segments")).count }
        #expect(try segments() > 2)
        while let _ = try queue.takeBatch(maxEvents: 64, maxBytes: 1 << 20) { try queue.commit() }
        #expect(try segments() == 1)
        #expect(queue.eventCount == 0)
    }

    @Test func aRefusedBatchIsWrittenAsideAndLeavesTheQueue() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        let queue = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
        try queue.append(events(0..<2))
        let batch = try #require(try queue.takeBatch(maxEvents: 10, maxBytes: 1 << 20))
        let path = try queue.setAside(batch, reason: "HTTP 400: no")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# HTTP 400: no\n"))
        #expect(text.contains(batch.events[1].text))
        #expect(queue.eventCount == 0)
    }

    @Test func twoPluginsCannotShareOneQueue() throws {
        let directory = try TemporaryDirectory("otlp-queue")
        defer { directory.remove() }
        let queue = try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block)
        #expect(throws: QueueStorageError.self) { try DurableQueue(directory: directory.path, maxBytes: 1 << 20, fullAction: .block) }
        _ = queue
    }
}
