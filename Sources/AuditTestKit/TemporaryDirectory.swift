import Foundation

/// A fresh directory under /tmp, removed with everything in it by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "swift-auditd-test") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "/tmp/\(prefix).XXXXXX"])
        }
        path = String(cString: made)
    }

    /// `path/name`.
    public func appending(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `path/name` and returns the full path.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> String {
        let file = appending(name)
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        return file
    }

    /// The lines of `path/name`, without their newlines.
    public func lines(of name: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: appending(name)))
        var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
