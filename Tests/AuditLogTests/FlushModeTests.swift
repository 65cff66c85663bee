import AuditLog
import AuditTestKit
import Foundation
import Testing

/// `flush` and `freq`: with batched writes, one sync after each write that carries the record
/// count past a multiple of `freq`.
@Suite struct FlushModeTests {
    func writer(_ scratch: Scratch, _ flush: FlushMode, freq: Int = 0) throws -> AuditLogWriter {
        try AuditLogWriter(settings: LogSettings(path: scratch.appending("audit.log"), flush: flush, freq: freq),
                           systemActions: RecordedSystemActions())
    }

    /// 120 records in writes of 7: the counts 50 and 100 are crossed once each.
    func write120(_ writer: AuditLogWriter) throws {
        for serial in 1...120 {
            Records.append(writer, Records.syscall(serial))
            if serial % 7 == 0 { try writer.flush() }
        }
        try writer.flush()
    }

    @Test func incrementalSyncsOnceForEachFreqBoundaryCrossed() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, .incremental, freq: 50)
        try write120(writer)
        #expect(writer.syncsRequested == 2)
        #expect(writer.backgroundSyncsCompleted == 0, "incremental syncs inline, with no thread")
        #expect(try scratch.lines("audit.log").count == 120)
    }

    @Test func incrementalAsyncHandsTheSyncToItsThread() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, .incrementalAsync, freq: 50)
        try write120(writer)
        #expect(writer.syncsRequested == 2)
        #expect(eventually { writer.backgroundSyncsCompleted >= 1 })
        #expect(writer.backgroundSyncsCompleted <= 2, "requests made while a sync runs are merged")
    }

    @Test func noneNeverSyncs() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, .none, freq: 50)
        try write120(writer)
        #expect(writer.syncsRequested == 0)
        #expect(openFlags(ofDescriptorOn: scratch.appending("audit.log")).map { $0 & O_DSYNC } == 0)
    }

    @Test func dataOpensTheLogWithODSYNCAndSyncWithOSYNC() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var writer: AuditLogWriter? = try writer(scratch, .data)
        let dataFlags = try #require(openFlags(ofDescriptorOn: scratch.appending("audit.log")))
        #expect(dataFlags & O_DSYNC == O_DSYNC)
        #expect(dataFlags & O_SYNC != O_SYNC)
        #expect(dataFlags & O_APPEND == O_APPEND)
        writer = nil
        writer = try self.writer(scratch, .sync)
        let syncFlags = try #require(openFlags(ofDescriptorOn: scratch.appending("audit.log")))
        #expect(syncFlags & O_SYNC == O_SYNC)
        _ = writer
    }

    @Test func aReloadChangingFlushReopensWithTheNewFlags() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let writer = try writer(scratch, .none)
        Records.append(writer, Records.syscall(1))
        writer.apply(LogSettings(path: scratch.appending("audit.log"), flush: .sync))
        let flags = try #require(openFlags(ofDescriptorOn: scratch.appending("audit.log")))
        #expect(flags & O_SYNC == O_SYNC)
        Records.append(writer, Records.syscall(2))
        try writer.flush()
        #expect(try scratch.lines("audit.log").count == 2, "the record buffered before the reload was written first")
    }
}
