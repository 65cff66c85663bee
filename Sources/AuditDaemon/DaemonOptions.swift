/// What the command line decides for one run of the daemon.
public struct DaemonOptions: Sendable {
    /// What to do with the kernel's `enabled` flag at start (`-s`, as auditd).
    public enum StartupState: String, Sendable, CaseIterable {
        /// Switch auditing on (the default). A locked kernel (`enabled=2`) is left alone.
        case enable
        /// Switch auditing off, unless locked.
        case disable
        /// Leave `enabled` as it is.
        case nochange
    }

    /// Where the PID file and the state report go; nil keeps neither (tests of the loop).
    public var runDirectory: RunDirectory?
    /// Where `auditd.conf` is (`-c`).
    public var configurationDirectory: String = "/etc/audit"
    public var startupState: StartupState = .enable
    /// Join the read-only multicast group instead of registering (`--multicast`).
    public var multicast = false
    /// Longest time a received record waits in memory before it is written, while records keep
    /// coming (each receive fills the batch). A receive that drains the socket has what it
    /// brought written right after it (`WriteSchedule`).
    public var batchWindow: Duration = .milliseconds(20)
    /// The socket's receive buffer: room for bursts while the daemon writes.
    public var receiveBufferSize: Int32 = 32 * 1024 * 1024
    /// What swift-auditd.conf says (the metrics textfile).
    public var settings = SwiftAuditdSettings()

    public init() {}
}
