import Testing
@testable import OTLPExporter

@Suite struct InterimEventGrouperTests {
    func record(_ text: String) -> RecordLine { RecordLine(text)! }

    @Test func readsNodeTypeStampAndBody() throws {
        let line = try #require(RecordLine("node=web-1 type=CWD msg=audit(1795706559.829:3587212):  cwd=\"/root\"\u{1D}X=1"))
        #expect(line.node == "web-1")
        #expect(line.typeName == "CWD")
        #expect(line.stamp.description == "1795706559.829:3587212")
        #expect(line.stamp.unixNanoseconds == 1_795_706_559_829_000_000)
        #expect(line.body == " cwd=\"/root\"")
        #expect(RecordLine("not a record") == nil)
        #expect(RecordLine("type=SYSCALL msg=audit(12:3): x") == nil)
    }

    @Test func anEventEndsAtItsProctitleAndTheEOEAfterItIsIgnored() {
        var grouper = InterimEventGrouper(timeout: .seconds(2))
        let now = ContinuousClock.now
        #expect(grouper.add(record("type=SYSCALL msg=audit(1.001:7): syscall=2"), at: now).isEmpty)
        #expect(grouper.add(record("type=CWD msg=audit(1.001:8): cwd=\"/\""), at: now).isEmpty)
        let closed = grouper.add(record("type=PROCTITLE msg=audit(1.001:7): proctitle=6C73"), at: now)
        #expect(closed.map { $0.records.map(\.typeName) } == [["SYSCALL", "PROCTITLE"]])
        #expect(grouper.add(record("type=EOE msg=audit(1.001:7): "), at: now).isEmpty)
        #expect(grouper.add(record("type=EOE msg=audit(1.001:8): "), at: now).map { $0.records.map(\.typeName) } == [["CWD"]])
    }

    @Test func aUserSpaceRecordIsAnEventAlone() {
        var grouper = InterimEventGrouper(timeout: .seconds(2))
        let closed = grouper.add(record("type=USER msg=audit(1.001:9): pid=1 uid=0 msg='text'"), at: .now)
        #expect(closed.count == 1)
    }

    @Test func anEventWithoutItsLastRecordClosesAfterTheTimeoutOrAtTheEnd() {
        var grouper = InterimEventGrouper(timeout: .seconds(2))
        let start = ContinuousClock.now
        _ = grouper.add(record("type=SYSCALL msg=audit(1.001:10): syscall=2"), at: start)
        _ = grouper.add(record("type=SYSCALL msg=audit(1.001:11): syscall=2"), at: start + .seconds(1))
        #expect(grouper.closeStale(at: start + .milliseconds(1500)).isEmpty)
        #expect(grouper.closeStale(at: start + .seconds(2)).map(\.stamp.serial) == [10])
        #expect(grouper.closeAll().map(\.stamp.serial) == [11])
    }
}
