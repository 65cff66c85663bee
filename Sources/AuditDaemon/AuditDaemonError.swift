/// A reason the daemon cannot start or go on, with the exit status auditd uses for it.
public struct AuditDaemonError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        /// The process's exit status for this kind of error (auditd's, `docs/auditd.8`).
        public let exitStatus: Int32
        let name: String

        /// Start-up failed: the kernel refused, the log could not be opened, another daemon is registered.
        public static let startFailure = Code(exitStatus: 1, name: "startFailure")
        /// Not enough privilege: not root, no `CAP_AUDIT_CONTROL`, or not in the initial namespaces.
        public static let insufficientPrivilege = Code(exitStatus: 4, name: "insufficientPrivilege")
        /// auditd.conf could not be read or has a bad line.
        public static let configuration = Code(exitStatus: 6, name: "configuration")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
