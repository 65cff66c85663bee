/// `struct audit_status`: the kernel's audit state, as `AUDIT_GET` reports it and `AUDIT_SET` changes it.
///
/// The struct has grown between kernels (`feature_bitmap`, `backlog_wait_time`,
/// `backlog_wait_time_actual` came later); decoding accepts any reply that holds at least the
/// original eight fields and reads the missing ones as zero.
public struct AuditStatus: Hashable, Sendable {
    /// The eight fields every kernel sends: mask … backlog.
    public static let minimumSize = 32
    /// The size this encoder writes (eleven `UInt32`s, kernel 5.x and later).
    public static let encodedSize = 44

    public var mask: Mask = []
    /// 0 off, 1 on, 2 on and locked until reboot.
    public var enabled: UInt32 = 0
    /// 0 silent, 1 printk, 2 panic.
    public var failure: UInt32 = 0
    /// The registered daemon's pid, 0 when none.
    public var pid: UInt32 = 0
    public var rateLimit: UInt32 = 0
    public var backlogLimit: UInt32 = 0
    /// Records the kernel dropped since boot.
    public var lost: UInt32 = 0
    /// Records in the kernel's main queue now.
    public var backlog: UInt32 = 0
    public var featureBitmap: UInt32 = 0
    /// In jiffies.
    public var backlogWaitTime: UInt32 = 0
    public var backlogWaitTimeActual: UInt32 = 0

    public init(mask: Mask = [], enabled: UInt32 = 0, failure: UInt32 = 0, pid: UInt32 = 0, rateLimit: UInt32 = 0,
                backlogLimit: UInt32 = 0, lost: UInt32 = 0, backlog: UInt32 = 0) {
        self.mask = mask
        self.enabled = enabled
        self.failure = failure
        self.pid = pid
        self.rateLimit = rateLimit
        self.backlogLimit = backlogLimit
        self.lost = lost
        self.backlog = backlog
    }

    public init(decoding payload: UnsafeRawBufferPointer) throws(AuditProtocolError) {
        guard payload.count >= Self.minimumSize else {
            throw .truncated(what: "audit_status", needed: Self.minimumSize, available: payload.count)
        }
        var reader = ByteReader(payload)
        mask = Mask(rawValue: reader.readOrZero(UInt32.self))
        enabled = reader.readOrZero(UInt32.self)
        failure = reader.readOrZero(UInt32.self)
        pid = reader.readOrZero(UInt32.self)
        rateLimit = reader.readOrZero(UInt32.self)
        backlogLimit = reader.readOrZero(UInt32.self)
        lost = reader.readOrZero(UInt32.self)
        backlog = reader.readOrZero(UInt32.self)
        featureBitmap = reader.readOrZero(UInt32.self)
        backlogWaitTime = reader.readOrZero(UInt32.self)
        backlogWaitTimeActual = reader.readOrZero(UInt32.self)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedSize)
        for field in [mask.rawValue, enabled, failure, pid, rateLimit, backlogLimit, lost, backlog,
                      featureBitmap, backlogWaitTime, backlogWaitTimeActual] {
            writer.write(field)
        }
        return writer.bytes
    }

    /// Which fields an `AUDIT_SET` changes (`AUDIT_STATUS_*`).
    public struct Mask: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let enabled = Mask(rawValue: 0x1)
        public static let failure = Mask(rawValue: 0x2)
        public static let pid = Mask(rawValue: 0x4)
        public static let rateLimit = Mask(rawValue: 0x8)
        public static let backlogLimit = Mask(rawValue: 0x10)
    }
}
