/// Why the listener could not start. Each says what to change.
public enum RemoteListenerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `tcp_listen_port` is not set.
    case disabled
    /// A transport this server does not speak (`RemoteListenerSettings.startupProblem`).
    case unsupportedTransport(String)
    /// The listening socket could not be made (auditd: "Cannot bind listener socket to port %ld (%s)").
    case cannotListen(port: Int, reason: String)

    public var description: String {
        switch self {
        case .disabled: "the remote listener is off: tcp_listen_port is not set"
        case let .unsupportedTransport(message): message
        case let .cannotListen(port, reason): "Cannot bind listener socket to port \(port) (\(reason))"
        }
    }
}
