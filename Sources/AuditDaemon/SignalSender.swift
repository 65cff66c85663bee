import AuditSystem
import AuditProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Who sent the daemon a signal, as auditd writes it in its records.
///
/// The kernel remembers the last sender of SIGTERM, SIGHUP, SIGUSR1 or SIGUSR2 to the registered
/// daemon and answers `AUDIT_SIGNAL_INFO` with its audit uid, pid and security context
/// (`audit_signal_info`, kernel/audit.c). libaudit adds what `/proc` says of that pid now
/// (`audit_format_signal_info`, lib/libaudit.c): the owner of `/proc/PID` (-1, printed unsigned,
/// when the process is gone) and `/proc/PID/sessionid` (`4294967295` when unreadable).
public struct SignalSender: Sendable, Hashable {
    /// The sender's login uid, or its uid when the login uid was unset (the kernel's choice).
    public var auid: UInt32
    public var pid: Int32
    /// The owner of `/proc/PID`; `UInt32.max` when the process is gone.
    public var uid: UInt32
    /// `/proc/PID/sessionid` as read.
    public var session: String
    /// The sender's LSM context, when the kernel gave one.
    public var context: String?

    public init(auid: UInt32, pid: Int32, uid: UInt32, session: String, context: String? = nil) {
        self.auid = auid
        self.pid = pid
        self.uid = uid
        self.session = session
        self.context = context
    }

    /// The kernel's answer completed from `/proc` (under `procRoot`, for tests).
    public init(_ info: SignalInfo, procRoot: String = "/proc") {
        auid = info.uid
        pid = info.pid
        var status = stat()
        uid = stat("\(procRoot)/\(info.pid)", &status) == 0 ? status.st_uid : UInt32.max
        session = ProcFile.firstLine("\(procRoot)/\(UInt32(bitPattern: info.pid))/sessionid") ?? "4294967295"
        context = info.context.isEmpty ? nil : String(decoding: info.context, as: UTF8.self)
    }

    /// What the kernel would have recorded for a signal it does not remember (SIGINT), or for a
    /// daemon that is not registered: the sender's login uid (its uid when unset) from `/proc`
    /// and the pid and uid `siginfo_t` reported.
    public init(signalledBy pid: Int32, uid senderUID: UInt32, procRoot: String = "/proc") {
        let loginUID = ProcFile.firstLine("\(procRoot)/\(pid)/loginuid").flatMap { UInt32($0) } ?? UInt32.max
        self.init(SignalInfo(uid: loginUID == UInt32.max ? senderUID : loginUID, pid: pid), procRoot: procRoot)
    }

    /// `op=OP auid=.. uid=.. ses=.. pid=..[ subj=..] res=RESULT`, auditd's text for a signal.
    public func text(operation: String, result: String) -> String {
        var text = "op=\(operation) auid=\(auid) uid=\(uid) ses=\(session) pid=\(pid)"
        if let context { text += " subj=\(context)" }
        return text + " res=\(result)"
    }
}

/// The daemon's own identity, as `DAEMON_START` and `DAEMON_ABORT` name it: auditd's
/// `audit_getloginuid()`, `getpid()`, `getuid()`, `audit_get_session()` and, when readable,
/// `/proc/PID/attr/current`.
public struct ProcessIdentity: Sendable, Hashable {
    public var auid: UInt32
    public var pid: UInt32
    public var uid: UInt32
    public var session: UInt32
    public var subject: String?

    public init(auid: UInt32, pid: UInt32, uid: UInt32, session: UInt32, subject: String? = nil) {
        self.auid = auid
        self.pid = pid
        self.uid = uid
        self.session = session
        self.subject = subject
    }

    /// This process, reported under `pid` (tests give the pid the fake kernel registers).
    public static func current(pid: UInt32 = UInt32(getpid())) -> ProcessIdentity {
        ProcessIdentity(
            auid: ProcFile.firstLine("/proc/self/loginuid").flatMap { UInt32($0) } ?? UInt32.max,
            pid: pid, uid: getuid(),
            session: ProcFile.firstLine("/proc/self/sessionid").flatMap { UInt32($0) } ?? UInt32.max,
            subject: ProcFile.firstLine("/proc/self/attr/current").flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `auid=.. pid=.. uid=.. ses=..` (auditd's order for its own identity).
    var fields: String { "auid=\(auid) pid=\(Int32(bitPattern: pid)) uid=\(uid) ses=\(session)" }
    /// ` subj=..` or empty.
    var subjectField: String { subject.map { " subj=\($0)" } ?? "" }
}
