/// `struct audit_sig_info`: who last sent the registered daemon SIGTERM, SIGHUP, SIGUSR1 or SIGUSR2.
public struct SignalInfo: Hashable, Sendable {
    /// The sender's login uid, or its uid when the login uid is unset.
    public var uid: UInt32
    public var pid: Int32
    /// The sender's security context, when an LSM gave one.
    public var context: [UInt8]

    public init(uid: UInt32, pid: Int32, context: [UInt8] = []) {
        self.uid = uid
        self.pid = pid
        self.context = context
    }

    public init(decoding payload: UnsafeRawBufferPointer) throws(AuditProtocolError) {
        var reader = ByteReader(payload)
        uid = try reader.read(UInt32.self)
        pid = try reader.read(Int32.self)
        let rest = payload[reader.offset...]
        context = Array(rest.prefix { $0 != 0 })
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 8 + context.count + 1)
        writer.write(uid)
        writer.write(pid)
        if !context.isEmpty { writer.write(context); writer.write(UInt8(0)) }
        return writer.bytes
    }
}
