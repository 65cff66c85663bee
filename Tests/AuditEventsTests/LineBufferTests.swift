import AuditEvents
import Testing

func lines(of buffer: inout LineBuffer) -> [String] {
    var lines: [String] = []
    while let line = buffer.nextLine({ String(decoding: $0, as: UTF8.self) }) { lines.append(line) }
    return lines
}

@Suite struct LineBufferTests {
    @Test func aLineSplitAcrossReadsComesOutWhole() {
        var buffer = LineBuffer(capacity: 64)
        Array("one\ntw".utf8).withUnsafeBytes { buffer.append($0) }
        #expect(lines(of: &buffer) == ["one"])
        #expect(buffer.pendingCount == 2)
        Array("o\nthree\n".utf8).withUnsafeBytes { buffer.append($0) }
        #expect(lines(of: &buffer) == ["two", "three"])
    }

    @Test func manyFillsKeepEveryByte() {
        var buffer = LineBuffer(capacity: 64)
        var expected: [String] = []
        var seen: [String] = []
        for number in 0..<2000 {
            let line = "line \(number) " + String(repeating: "x", count: number % 97)
            expected.append(line)
            Array((line + "\n").utf8).withUnsafeBytes { buffer.append($0) }
            seen += lines(of: &buffer)
        }
        #expect(seen == expected)
    }

    @Test func aTornLineIsKeptAsTheRemainder() {
        var buffer = LineBuffer(capacity: 64)
        Array("whole\ntorn".utf8).withUnsafeBytes { buffer.append($0) }
        #expect(lines(of: &buffer) == ["whole"])
        #expect(String(decoding: buffer.takeRemainder(), as: UTF8.self) == "torn")
        #expect(buffer.pendingCount == 0)
    }

    @Test func aHugeLineIsCutIntoPiecesAndCounted() {
        var buffer = LineBuffer(capacity: 64, maxLineLength: 100)
        let huge = String(repeating: "h", count: 250)
        Array((huge + "\nnext\n").utf8).withUnsafeBytes { buffer.append($0) }
        let got = lines(of: &buffer)
        #expect(got.map(\.count) == [100, 100, 50, 4])
        #expect(got.joined() == huge + "next")
        #expect(buffer.cutLines == 2)
    }
}
