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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
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
        // Configuration, lifecycle, signals, the receive-and-write loop.
        .target(
            name: "AuditDaemon",
            dependencies: [
                "CAudit", "AuditNetlink", "AuditLog", "AuditProtocol", "AuditSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: recordPath
        ),
        // The control client: finding the registered daemon, pidfd signals, the status text.
        .target(
            name: "AuditControl",
            dependencies: [
                "CAudit", "AuditDaemon", "AuditNetlink", "AuditProtocol", "AuditSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "swift-auditd",
            dependencies: [
                "AuditControl", "AuditDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
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
        // The fake kernel and other helpers; used by tests only.
        .target(name: "AuditTestKit", dependencies: ["AuditNetlink", "AuditProtocol", "AuditLog"], swiftSettings: strict),

        .testTarget(name: "AuditProtocolTests", dependencies: ["AuditProtocol", "CAudit"], swiftSettings: strict),
        .testTarget(name: "AuditNetlinkTests", dependencies: ["AuditNetlink", "AuditTestKit"], swiftSettings: strict),
        .testTarget(name: "AuditLogTests", dependencies: ["AuditLog", "AuditTestKit"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "AuditDaemonTests",
            dependencies: ["AuditDaemon", "AuditControl", "AuditTestKit", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The executable itself: real signals, the control commands, exit statuses, systemd notify.
        .testTarget(
            name: "SwiftAuditdTests",
            dependencies: ["AuditDaemon", "AuditTestKit", "AuditProtocol", "AuditNetlink"],
            swiftSettings: strict
        ),
        .testTarget(name: "RealKernelTests", dependencies: ["AuditTestKit", "AuditProtocol", "AuditNetlink", "CAudit"], swiftSettings: strict),
    ]
)
