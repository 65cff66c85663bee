import AuditSystem
import AuditProtocol

/// Why the log could not be opened or written.
public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var cause: SystemCallError?

    public init(_ message: String, cause: SystemCallError? = nil) {
        self.message = message
        self.cause = cause
    }

    /// The errno behind the error, when a system call failed.
    public var errno: Int32? { cause?.errno }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
