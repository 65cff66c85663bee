// swift-tools-version:6.0
import PackageDescription

/// Every Swift target is built in the Swift 6 language mode with the same settings.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The record path's modules, in release builds, skip the run-time exclusivity checks on class
/// properties (`swift_beginAccess`): they were half of the writer's instructions per record
/// (callgrind, Benchmarks/Replay). Debug builds, and so every test, keep the checks; the
/// compile-time checks stay on everywhere.
let recordPath: [SwiftSetting] = strict + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "swift-auditd",
    products: [
        .executable(name: "swift-auditd", targets: ["swift-auditd"]),
        .executable(name: "swift-auditd-replay", targets: ["swift-auditd-replay"]),
        .executable(name: "swift-auditd-otlp", targets: ["swift-auditd-otlp"]),
        .executable(name: "swift-auditd-remote-sink", targets: ["swift-auditd-remote-sink"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // The OTLP plugin (swift-auditd-otlp): its messages and its HTTP client.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // Kernel headers, macro wrappers, the batched receive, and libaudit's name tables.
        .target(
            name: "CAudit",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("audit")]
        ),
        // Values and byte codecs of the netlink audit protocol. No syscalls, no dependencies.
        .target(name: "AuditProtocol", swiftSettings: recordPath),
        // The system-call layer: SystemCallError, errno text, the one monotonic clock.
        .target(name: "AuditSystem", swiftSettings: recordPath),
        // The socket (kernel or one end of a pair), the request/ACK client, batched receives.
        .target(name: "AuditNetlink", dependencies: ["CAudit", "AuditProtocol", "AuditSystem", .product(name: "Logging", package: "swift-log")], swiftSettings: recordPath),
        // Line formatting and the log file.
        .target(name: "AuditLog", dependencies: ["CAudit", "AuditProtocol", "AuditSystem"], swiftSettings: recordPath),
        // Records grouped into events by stamp (issue 13), for follow and the exporters; off the
        // daemon's record path.
        .target(name: "AuditEvents", dependencies: ["CAudit", "AuditProtocol"], swiftSettings: recordPath),
        // libauparse's field interpreter (ausearch -i's), declared as its uninstalled header does.
        .target(name: "CAuparse", linkerSettings: [.linkedLibrary("auparse")]),
        // Events printed as `ausearch -i` prints them.
        .target(name: "AuditInterpretation", dependencies: ["AuditEvents", "CAudit", "CAuparse"], swiftSettings: recordPath),
        // `swift-auditd follow`: the log and its rotations read and followed, as events.
        .target(name: "AuditFollow", dependencies: ["AuditEvents", "AuditInterpretation", "AuditSystem"], swiftSettings: recordPath),
        // The remote-logging wire protocol (audisp-remote's "managed" frames), the listener's
        // settings and its DAEMON_ACCEPT/DAEMON_CLOSE texts. No syscalls, no dependencies.
        .target(name: "RemoteProtocol", swiftSettings: recordPath),
        // tcp_wrappers' hosts_ctl (Debian's libwrap), for use_libwrap.
        .target(name: "CLibwrap", linkerSettings: [.linkedLibrary("wrap")]),
        // zlib's crc32, for the OTLP plugin's queue frames.
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        // The TCP listener for audisp-remote clients, on swift-nio.
        .target(
            name: "AuditRemote",
            dependencies: [
                "RemoteProtocol", "CLibwrap",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: recordPath
        ),
        // Configuration, lifecycle, signals, the receive-and-write loop.
        .target(
            name: "AuditDaemon",
            dependencies: [
                "CAudit", "AuditNetlink", "AuditLog", "AuditProtocol", "AuditSystem", "RemoteProtocol", "AuditDispatch",
                "AuditRemote", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: recordPath
        ),
        // auditd's plugin interface: plugins.d, the plugin programs and the built-in af_unix socket,
        // each fed from a bounded queue of its own; a second consumer of the record loop's output.
        .target(
            name: "AuditDispatch",
            dependencies: ["CAudit", "AuditLog", "AuditProtocol", "AuditSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: recordPath
        ),
        // The control client: finding the registered daemon, pidfd signals, the status text.
        .target(
            name: "AuditControl",
            dependencies: [
                "CAudit", "AuditDaemon", "AuditDispatch", "AuditNetlink", "AuditProtocol", "AuditSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "swift-auditd",
            dependencies: [
                "AuditControl", "AuditDaemon", "AuditEvents", "AuditFollow", "AuditSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The audisp plugin that exports events over OTLP/HTTP: its configuration, the durable queue,
        // the OTLP messages (generated once from Protos/otlp_logs.proto) and the sender; events are
        // reassembled by AuditEvents.
        .target(
            name: "OTLPExporter",
            dependencies: [
                "AuditEvents", "AuditProtocol", "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "swift-auditd-otlp",
            dependencies: ["OTLPExporter", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(name: "ReplaySupport", path: "Benchmarks/ReplaySupport"),
        // The fake-kernel replay benchmark (make bench): a million datagrams through the daemon loop.
        .executableTarget(
            name: "swift-auditd-replay",
            dependencies: [
                "AuditDaemon", "AuditLog", "AuditNetlink", "ReplaySupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/Replay",
            swiftSettings: strict
        ),
        // The remote listener alone, writing to a file: make bench-remote's server (not the daemon).
        .executableTarget(
            name: "swift-auditd-remote-sink",
            dependencies: ["AuditRemote", "RemoteProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/RemoteSink",
            swiftSettings: strict
        ),
        // What every test target may use: the fake kernel, temporary directories, the notify socket,
        // the spawned daemon process, the one wait helper, and what a test requires of the machine.
        .target(
            name: "AuditTestKit",
            dependencies: ["AuditNetlink", "AuditProtocol", "AuditLog", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // What only the real-kernel tests use: the kernel lock, the kernel's state and rules, and the
        // audited thread every counted system call is made on.
        .target(
            name: "KernelTestKit",
            dependencies: ["AuditTestKit", "AuditNetlink", "AuditProtocol", "AuditSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        .testTarget(name: "AuditProtocolTests", dependencies: ["AuditProtocol", "CAudit"], swiftSettings: strict),
        .testTarget(
            name: "AuditDispatchTests",
            dependencies: ["AuditDispatch", "AuditTestKit", "AuditLog", "AuditProtocol", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")], swiftSettings: strict
        ),
        .testTarget(name: "AuditEventsTests", dependencies: ["AuditEvents", "AuditTestKit", "AuditdGoldenLogs"], swiftSettings: strict),
        .testTarget(
            name: "AuditInterpretationTests",
            dependencies: ["AuditInterpretation", "AuditEvents", "AuditTestKit", "AuditdGoldenLogs"], swiftSettings: strict
        ),
        .testTarget(name: "AuditFollowTests", dependencies: ["AuditFollow", "AuditEvents", "AuditTestKit"], swiftSettings: strict),
        .testTarget(name: "RemoteProtocolTests", dependencies: ["RemoteProtocol"], swiftSettings: strict),
        .testTarget(
            name: "AuditRemoteTests",
            dependencies: [
                "AuditRemote", "RemoteProtocol", "AuditTestKit", "AuditProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "AuditNetlinkTests", dependencies: ["AuditNetlink", "AuditTestKit"], swiftSettings: strict),
        // The golden logs Debian's auditd 3.0.9 wrote, as resources, and their reader.
        .target(
            name: "AuditdGoldenLogs", dependencies: ["AuditLog"], path: "Tests/AuditdGoldenLogs",
            resources: [.copy("auditd-3.0.9")], swiftSettings: strict
        ),
        .testTarget(name: "AuditLogTests", dependencies: ["AuditLog", "AuditTestKit", "AuditdGoldenLogs"], swiftSettings: strict),
        .testTarget(
            name: "AuditDaemonTests",
            dependencies: ["AuditDaemon", "AuditControl", "AuditDispatch", "AuditTestKit", "AuditdGoldenLogs", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The executable itself: real signals, the control commands, exit statuses, systemd notify.
        .testTarget(
            name: "SwiftAuditdTests",
            dependencies: ["AuditDaemon", "AuditTestKit", "AuditProtocol", "AuditNetlink", "AuditdGoldenLogs"],
            swiftSettings: strict
        ),
        // The plugin's parts, and the plugin process against a Python OTLP receiver (opentelemetry-proto).
        .testTarget(
            name: "OTLPExporterTests",
            dependencies: ["OTLPExporter", "AuditTestKit", "KernelTestKit", "AuditProtocol", "AuditdGoldenLogs"],
            resources: [.copy("Receiver")],
            swiftSettings: strict
        ),
        .testTarget(name: "RealKernelTests", dependencies: ["AuditTestKit", "KernelTestKit", "AuditProtocol", "AuditNetlink", "CAudit"], swiftSettings: strict),
    ]
)
