/// One million (or any number of) kernel audit datagrams, made deterministically and kept in one
/// block of memory, ready to be sent as they are.
///
/// The mix is what a busy build or login host sends: `execve` events (SYSCALL, a long EXECVE with
/// some hex-encoded arguments, CWD, two PATHs, PROCTITLE, EOE), `openat` events (SYSCALL, CWD,
/// PATH, PROCTITLE, EOE), `connect` events (SYSCALL, SOCKADDR, PROCTITLE, EOE), and records
/// from PAM and sudo (USER_ACCT, CRED_ACQ, USER_START, USER_CMD, ...). Field order and encodings
/// follow the records kernel 6.x writes (kernel/auditsc.c, kernel/audit.c); each datagram is
/// framed as the kernel frames it for the registered daemon: `nlmsg_len` is the payload length.
final class Corpus: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let byteCount: Int
    /// Where each datagram starts in `base`, and its length; `offsets.count == records`.
    let offsets: [Int]
    let lengths: [Int]
    /// Datagrams auditd does not log (EOE): the rest must each become one line.
    let notLogged: Int
    var records: Int { offsets.count }

    enum Mix: CustomStringConvertible {
        /// execve, openat, connect and PAM/sudo records (the type's summary).
        case busyHost
        /// The kernel benchmark's events: SYSCALL (getppid), PROCTITLE, EOE.
        case getppid

        var description: String { self == .busyHost ? "busy host mix" : "getppid events" }
    }

    init(records wanted: Int, mix: Mix = .busyHost) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(wanted * 330)
        var offsets: [Int] = [], lengths: [Int] = []
        offsets.reserveCapacity(wanted)
        lengths.reserveCapacity(wanted)
        var generator = Generator()
        var notLogged = 0
        while offsets.count < wanted {
            generator.nextEvent(mix) { type, payload in
                guard offsets.count < wanted else { return }
                offsets.append(bytes.count)
                let length = 16 + payload.count
                lengths.append(length)
                Generator.appendLE(UInt32(payload.count), to: &bytes)  // nlmsg_len: payload only
                Generator.appendLE(type, to: &bytes)
                Generator.appendLE(UInt16(0), to: &bytes)
                Generator.appendLE(UInt32(0), to: &bytes)
                Generator.appendLE(UInt32(0), to: &bytes)
                bytes.append(contentsOf: payload)
                if type == 1320 { notLogged += 1 }
            }
        }
        let total = bytes.count
        let block = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 16)
        bytes.withUnsafeBytes { block.copyMemory(from: $0.baseAddress!, byteCount: total) }
        byteCount = total
        base = block
        self.offsets = offsets
        self.lengths = lengths
        self.notLogged = notLogged
    }

    deinit { base.deallocate() }

    /// How many datagrams of each type, for the report.
    func typeCounts() -> [(UInt16, Int)] {
        var counts: [UInt16: Int] = [:]
        for offset in offsets {
            let type = base.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            counts[type, default: 0] += 1
        }
        return counts.sorted { $0.key < $1.key }
    }
}

/// Makes events, one record at a time, from a fixed seed.
struct Generator {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var serial: UInt64 = 48_213
    private var milliseconds: UInt64 = 1_700_000_000_000
    private var line: [UInt8] = []

    mutating func random(_ bound: Int) -> Int {
        // xorshift64*: deterministic and fast.
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
    }

    static func appendLE<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    // MARK: - Payload building

    private mutating func begin() {
        line.removeAll(keepingCapacity: true)
        add("audit(")
        add(milliseconds / 1000)
        add(".")
        let ms = milliseconds % 1000
        if ms < 100 { add("0") }
        if ms < 10 { add("0") }
        add(ms)
        add(":")
        add(serial)
        add("): ")
    }

    private mutating func add(_ text: String) { line.append(contentsOf: text.utf8) }
    private mutating func add<T: BinaryInteger>(_ number: T) { line.append(contentsOf: String(number).utf8) }
    private mutating func addHex<T: BinaryInteger>(_ number: T) { line.append(contentsOf: String(number, radix: 16).utf8) }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
    private mutating func addHexBytes(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            line.append(Self.hexDigits[Int(byte >> 4)])
            line.append(Self.hexDigits[Int(byte & 0xF)])
        }
    }

    /// An argument as the kernel logs it: quoted, or hex when it holds a space, quote or control byte.
    private mutating func addUntrusted(_ text: String) {
        if text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 || $0 >= 0x7F }) {
            addHexBytes(text.utf8)
        } else {
            add("\"")
            add(text)
            add("\"")
        }
    }

    // MARK: - Events

    struct Program {
        let comm: String
        let exe: String
        let arguments: [String]
    }

    static let programs: [Program] = [
        Program(comm: "cc1", exe: "/usr/libexec/gcc/x86_64-linux-gnu/12/cc1", arguments: [
            "/usr/libexec/gcc/x86_64-linux-gnu/12/cc1", "-quiet", "-I", "/home/dev/src/swift-auditd/Sources/CAudit/include",
            "-I", "/home/dev/src/swift-auditd/.build/x86_64-unknown-linux-gnu/release", "-imultiarch", "x86_64-linux-gnu",
            "-D", "_GNU_SOURCE", "-D", "SWIFT_PACKAGE=1", "-D", "NDEBUG=1", "Sources/CAudit/shim.c", "-quiet",
            "-dumpdir", ".build/release/CAudit.build/", "-dumpbase", "shim.c", "-dumpbase-ext", ".c", "-mtune=generic",
            "-march=x86-64", "-O2", "-Wall", "-Wextra", "-fPIC", "-fno-omit-frame-pointer", "-fasynchronous-unwind-tables",
            "-fstack-protector-strong", "-Wformat", "-Wformat-security", "-fstack-clash-protection", "-fcf-protection",
            "-o", "/tmp/ccq1Xz8A.s",
        ]),
        Program(comm: "git", exe: "/usr/bin/git", arguments: ["git", "status", "--porcelain=v2", "--branch"]),
        Program(comm: "sh", exe: "/usr/bin/dash", arguments: ["/bin/sh", "-c", "make -C build all && echo \"done: $?\""]),
        Program(comm: "python3", exe: "/usr/bin/python3.11", arguments: [
            "/usr/bin/python3", "-m", "pytest", "-q", "--maxfail=1", "tests/test_ingest.py::test_replay_large_batch",
            "-k", "not slow and not network", "--junitxml=/tmp/pytest-report.xml",
        ]),
        Program(comm: "ls", exe: "/usr/bin/ls", arguments: ["ls", "--color=auto", "-la", "/var/log/audit"]),
        Program(comm: "curl", exe: "/usr/bin/curl", arguments: [
            "curl", "-fsSL", "-H", "Accept: application/json", "-H", "User-Agent: deploy-bot/2.3 (build 18842)",
            "--retry", "3", "--max-time", "30", "https://repo.example.internal/api/v4/projects/1182/pipelines?ref=main",
        ]),
    ]

    static let paths = [
        "/etc/ld.so.cache", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/home/dev/src/swift-auditd/Package.swift",
        "/proc/self/status", "/var/lib/dpkg/status", "/etc/nsswitch.conf", "/tmp/ccq1Xz8A.s",
        "/home/dev/.cache/org.swift.swiftpm/manifests/manifest.db-journal",
    ]

    /// Makes the next event and passes each of its records to `emit` (type, payload).
    mutating func nextEvent(_ mix: Corpus.Mix, _ emit: (UInt16, [UInt8]) -> Void) {
        serial += 1
        milliseconds += UInt64(random(3))
        if mix == .getppid {
            getppid(emit)
            return
        }
        let pid = 20_000 + random(30_000)
        let ppid = 1_000 + random(19_000)
        let kind = random(10)
        switch kind {
        case 0..<4: execve(pid: pid, ppid: ppid, emit)
        case 4..<6: openat(pid: pid, ppid: ppid, emit)
        case 6..<8: connect(pid: pid, ppid: ppid, emit)
        default: user(pid: pid, emit)
        }
    }

    private mutating func syscall(_ number: Int, exit: String, items: Int, pid: Int, ppid: Int,
                                  comm: String, exe: String, key: String) {
        begin()
        add("arch=c000003e syscall="); add(number); add(" success=yes exit="); add(exit)
        for index in 0..<4 {
            add(" a"); add(index); add("=")
            addHex(UInt64(random(1 << 30)) &* 0x1_0000 &+ 0x5500_0000_0000)
        }
        add(" items="); add(items); add(" ppid="); add(ppid); add(" pid="); add(pid)
        add(" auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=")
        addUntrusted(comm); add(" exe="); addUntrusted(exe); add(" subj=unconfined key=\""); add(key); add("\"")
    }

    private mutating func path(item: Int, name: String, emit: (UInt16, [UInt8]) -> Void) {
        begin()
        add("item="); add(item); add(" name="); addUntrusted(name)
        add(" inode="); add(100_000 + random(3_000_000)); add(" dev=fe:01 mode=0100644 ouid=0 ogid=0 rdev=00:00")
        add(" nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")
        emit(1302, line)
    }

    private mutating func cwd(_ emit: (UInt16, [UInt8]) -> Void) {
        begin()
        add("cwd=\"/home/dev/src/swift-auditd\"")
        emit(1307, line)
    }

    private mutating func proctitle(_ arguments: [String], _ emit: (UInt16, [UInt8]) -> Void) {
        begin()
        add("proctitle=")
        var title: [UInt8] = []
        for (index, argument) in arguments.enumerated() {
            if index > 0 { title.append(0) }
            title.append(contentsOf: argument.utf8)
        }
        if arguments.count == 1 { addUntrusted(arguments[0]) } else { addHexBytes(title.prefix(128)) }
        emit(1327, line)
    }

    private mutating func endOfEvent(_ emit: (UInt16, [UInt8]) -> Void) {
        begin()
        emit(1320, line)
    }

    private mutating func execve(pid: Int, ppid: Int, _ emit: (UInt16, [UInt8]) -> Void) {
        let program = Self.programs[random(Self.programs.count)]
        syscall(59, exit: "0", items: 2, pid: pid, ppid: ppid, comm: program.comm, exe: program.exe, key: "exec")
        emit(1300, line)
        begin()
        add("argc="); add(program.arguments.count)
        for (index, argument) in program.arguments.enumerated() {
            add(" a"); add(index); add("="); addUntrusted(argument)
        }
        emit(1309, line)
        cwd(emit)
        path(item: 0, name: program.exe, emit: emit)
        path(item: 1, name: "/lib64/ld-linux-x86-64.so.2", emit: emit)
        proctitle(program.arguments, emit)
        endOfEvent(emit)
    }

    /// As the kernel benchmark's workload makes them (Benchmarks/workload.c, run as root).
    private mutating func getppid(_ emit: (UInt16, [UInt8]) -> Void) {
        begin()
        add("arch=c000003e syscall=110 success=yes exit=41872 a0=0 a1=0 a2=0 a3=0 items=0 ppid=41872 pid=41890")
        add(" auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295")
        add(" comm=\"workload\" exe=\"/work/swift-auditd/Benchmarks/.build/workload\" key=\"swift-auditd-bench\"")
        emit(1300, line)
        proctitle(["/work/swift-auditd/Benchmarks/.build/workload", "300000"], emit)
        endOfEvent(emit)
    }

    private mutating func openat(pid: Int, ppid: Int, _ emit: (UInt16, [UInt8]) -> Void) {
        let program = Self.programs[random(Self.programs.count)]
        syscall(257, exit: String(3 + random(20)), items: 1, pid: pid, ppid: ppid, comm: program.comm,
                exe: program.exe, key: "files")
        emit(1300, line)
        cwd(emit)
        path(item: 0, name: Self.paths[random(Self.paths.count)], emit: emit)
        proctitle(Array(program.arguments.prefix(3)), emit)
        endOfEvent(emit)
    }

    private mutating func connect(pid: Int, ppid: Int, _ emit: (UInt16, [UInt8]) -> Void) {
        let program = Self.programs[5]
        syscall(42, exit: random(4) == 0 ? "-115" : "0", items: 0, pid: pid, ppid: ppid, comm: program.comm,
                exe: program.exe, key: "network")
        emit(1300, line)
        begin()
        add("saddr=")
        if random(3) == 0 {
            // AF_UNIX, /run/systemd/resolve/io.systemd.Resolve
            addHexBytes([0x01, 0x00] + Array("/run/systemd/resolve/io.systemd.Resolve".utf8))
        } else {
            // AF_INET, port 443, 10.20.x.y
            addHexBytes([0x02, 0x00, 0x01, 0xBB, 10, 20, UInt8(random(256)), UInt8(random(256)), 0, 0, 0, 0, 0, 0, 0, 0])
        }
        emit(1306, line)
        proctitle(program.arguments, emit)
        endOfEvent(emit)
    }

    private static let userRecords: [(UInt16, String)] = [
        (1101, "op=PAM:accounting grantors=pam_permit acct=\"dev\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success"),
        (1103, "op=PAM:setcred grantors=pam_permit acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success"),
        (1105, "op=PAM:session_open grantors=pam_limits,pam_permit,pam_unix acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success"),
        (1123, "cwd=\"/home/dev/src/swift-auditd\" cmd=6D616B652062656E6368 exe=\"/usr/bin/sudo\" terminal=pts/0 res=success"),
        (1100, "op=PAM:authentication grantors=pam_unix acct=\"dev\" exe=\"/usr/sbin/sshd\" hostname=10.20.4.17 addr=10.20.4.17 terminal=ssh res=success"),
        (1112, "op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=10.20.4.17 addr=10.20.4.17 terminal=/dev/pts/1 res=success"),
    ]

    private mutating func user(pid: Int, _ emit: (UInt16, [UInt8]) -> Void) {
        let (type, message) = Self.userRecords[random(Self.userRecords.count)]
        begin()
        add("pid="); add(pid); add(" uid=0 auid=1000 ses=3 subj=unconfined msg='"); add(message); add("'")
        emit(type, line)
    }
}
