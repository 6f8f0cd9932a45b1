// swift-tools-version:6.2
// eniroute: policy routing for multi-ENI EC2 instances. No package dependencies, by design.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "eniroute",
    products: [
        .executable(name: "eniroute", targets: ["eniroute"]),
        .executable(name: "eniroute-imds-sim", targets: ["eniroute-imds-sim"]),
    ],
    targets: [
        // Kernel constants and struct layouts from <linux/rtnetlink.h> and friends (Glibc lacks them).
        .target(name: "CRTNetlink"),
        // Pure core: models, IMDS text parsing, configuration, planning. No I/O.
        .target(name: "ENIRouteCore", swiftSettings: strict),
        // System calls written once: Errno, the EINTR retry, socket addresses, the lock file, the
        // monotonic clock (Glibc only).
        .target(name: "ENIRouteSystem", dependencies: ["ENIRouteCore"], swiftSettings: strict),
        // rtnetlink: message writer/reader, socket behind a protocol, typed kernel errors.
        .target(name: "ENIRouteNetlink", dependencies: ["ENIRouteCore", "ENIRouteSystem", "CRTNetlink"], swiftSettings: strict),
        // IMDSv2 client over plain HTTP/1.1 on a TCP socket, behind a transport protocol.
        .target(name: "ENIRouteIMDS", dependencies: ["ENIRouteCore", "ENIRouteSystem"], swiftSettings: strict),
        // Argument parsing, commands, logging, locking.
        .target(
            name: "ENIRouteCLI", dependencies: ["ENIRouteCore", "ENIRouteSystem", "ENIRouteNetlink", "ENIRouteIMDS"],
            swiftSettings: strict),
        .executableTarget(name: "eniroute", dependencies: ["ENIRouteCLI"], swiftSettings: strict),
        // Test-only IMDS simulator (not shipped in the .deb).
        .target(name: "IMDSSimulator", dependencies: ["ENIRouteCore", "ENIRouteSystem"], swiftSettings: strict),
        .executableTarget(name: "eniroute-imds-sim", dependencies: ["IMDSSimulator"], swiftSettings: strict),
        // Test-only support (never shipped): the in-memory kernel, the private-namespace helper,
        // hex helpers and the IMDS fixture loader.
        .target(
            name: "ENIRouteTestSupport",
            dependencies: ["ENIRouteCore", "ENIRouteSystem", "ENIRouteNetlink", "ENIRouteCLI", "CRTNetlink"],
            swiftSettings: strict),
        .testTarget(
            name: "ENIRouteCoreTests", dependencies: ["ENIRouteCore", "ENIRouteTestSupport"], resources: [.copy("Golden")],
            swiftSettings: strict),
        .testTarget(name: "ENIRouteSystemTests", dependencies: ["ENIRouteSystem", "ENIRouteCore"], swiftSettings: strict),
        .testTarget(
            name: "ENIRouteNetlinkTests",
            dependencies: ["ENIRouteNetlink", "ENIRouteSystem", "ENIRouteTestSupport", "CRTNetlink"],
            swiftSettings: strict),
        .testTarget(
            name: "ENIRouteIMDSTests",
            dependencies: ["ENIRouteIMDS", "ENIRouteSystem", "ENIRouteTestSupport", "IMDSSimulator", "CRTNetlink"],
            swiftSettings: strict),
        .testTarget(
            name: "ENIRouteCLITests", dependencies: ["ENIRouteCLI", "ENIRouteSystem", "ENIRouteTestSupport", "IMDSSimulator"],
            swiftSettings: strict),
    ]
)
