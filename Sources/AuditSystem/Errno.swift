#if canImport(Glibc)
import Glibc
#endif

/// An errno value, worded as `strerror` words it: the one place that asks `strerror`.
public struct Errno: Hashable, Sendable, CustomStringConvertible {
    public var code: Int32
    public init(_ code: Int32) { self.code = code }
    /// The calling thread's `errno` now.
    public static var current: Errno { Errno(errno) }
    public var description: String { String(cString: strerror(code)) }
}
