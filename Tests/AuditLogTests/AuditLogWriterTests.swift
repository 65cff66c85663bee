import AuditProtocol
import AuditLog
import AuditTestKit
import Foundation
import Testing

@Suite struct AuditLogWriterTests {
    func append(_ writer: AuditLogWriter, _ type: UInt16, _ text: String) {
        Array(text.utf8).withUnsafeBytes { writer.append(type: AuditMessageType(type), payload: $0) }
    }

    @Test func createsTheLogPrivateInAPrivateDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("log/audit.log")
        let writer = try AuditLogWriter(path: path)
        append(writer, 1300, "audit(1.000:1): x")
        try writer.flushAndSync()
        let file = try FileManager.default.attributesOfItem(atPath: path)
        let folder = try FileManager.default.attributesOfItem(atPath: directory.appending("log"))
        #expect((file[.posixPermissions] as? Int) == 0o600)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        #expect(try directory.lines(of: "log/audit.log") == ["type=SYSCALL msg=audit(1.000:1): x"])
        #expect(writer.recordsWritten == 1)
    }

    @Test func nothingReachesTheFileUntilFlushThenEverything() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try AuditLogWriter(path: directory.appending("audit.log"))
        for serial in 1...1000 { append(writer, 1300, "audit(1.000:\(serial)): x") }
        #expect(try directory.lines(of: "audit.log").count < 1000)
        try writer.flush()
        #expect(try directory.lines(of: "audit.log").count == 1000)
        #expect(writer.recordsWritten == 1000)
    }

    @Test func refusesALogPathThatIsASymlink() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("", to: "elsewhere")
        try FileManager.default.createSymbolicLink(atPath: directory.appending("audit.log"),
                                                   withDestinationPath: directory.appending("elsewhere"))
        let error = #expect(throws: AuditLogError.self) { try AuditLogWriter(path: directory.appending("audit.log")) }
        #expect(error?.description.contains("symbolic link") == true)
    }

    @Test func refusesADirectoryEveryoneCanWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.appending("open"), withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o777])
        let error = #expect(throws: AuditLogError.self) { try AuditLogWriter(path: directory.appending("open/audit.log")) }
        #expect(error?.description.contains("writable by every user") == true)
    }

    @Test func aLogRemovedWhileOpenIsMadeAgainBeforeTheNextWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try AuditLogWriter(path: directory.appending("log/audit.log"))
        append(writer, 1300, "audit(1.000:1): before")
        try writer.flush()
        try FileManager.default.removeItem(atPath: directory.appending("log"))
        append(writer, 1300, "audit(1.000:2): after")
        try writer.flush()
        #expect(try directory.lines(of: "log/audit.log") == ["type=SYSCALL msg=audit(1.000:2): after"])
        #expect(writer.recordsWritten == 2)
    }

    @Test func aTornLastLineIsNotGluedToTheFirstNewOne() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("type=SYSCALL msg=audit(1.000:1): whole\ntype=SYSCALL msg=audit(1.000:2): ha", to: "audit.log")
        let writer = try AuditLogWriter(path: path)
        append(writer, 1300, "audit(1.000:3): next")
        try writer.flush()
        #expect(try directory.lines(of: "audit.log") == [
            "type=SYSCALL msg=audit(1.000:1): whole",
            "type=SYSCALL msg=audit(1.000:2): ha",
            "type=SYSCALL msg=audit(1.000:3): next",
        ])
    }
}
