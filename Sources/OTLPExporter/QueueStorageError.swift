#if canImport(Glibc)
import Glibc
#endif

/// A system call on the queue's files that failed: which call, on which path, with which errno.
public struct QueueStorageError: Error, CustomStringConvertible {
    public let call: String
    public let path: String
    public let errno: Int32

    public init(_ call: String, _ path: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
}
