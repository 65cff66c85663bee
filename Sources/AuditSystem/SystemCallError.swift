#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: which call, on what, and the errno it returned.
public struct SystemCallError: Error, Hashable, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32
    /// The path or object the call was about, when there is one.
    public var subject: String?

    public init(_ call: String, errno: Int32, subject: String? = nil) {
        self.call = call
        self.errno = errno
        self.subject = subject
    }

    public var description: String {
        let reason = Errno(errno).description
        if let subject { return "\(call)(\(subject)): \(reason) (errno \(errno))" }
        return "\(call): \(reason) (errno \(errno))"
    }
}
