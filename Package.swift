// swift-tools-version:6.0
import PackageDescription

/// One package for the whole product: the libcurl module, the mock upstream relay,
/// the harness library and its executables, and the tests.
let package = Package(
    name: "Cutover",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Cutover", targets: ["Cutover", "MockUpstream"]),
        .executable(name: "mock-upstream", targets: ["MockUpstreamCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        /// libcurl (libcurl4-openssl-dev) with typed shims for its variadic calls.
        .systemLibrary(
            name: "CCurl",
            path: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /// The mock OpenAI-compatible relay with fault injection.
        .target(
            name: "MockUpstream",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "mock-upstream/Sources/MockUpstream"
        ),
        .executableTarget(
            name: "MockUpstreamCLI",
            dependencies: [
                "MockUpstream",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "mock-upstream/Sources/mock-upstream"
        ),
        /// The harness library: HTTP over libcurl now; load generator, suites, checks and reports later.
        .target(
            name: "Cutover",
            dependencies: ["CCurl", "MockUpstream"],
            path: "Sources/Cutover"
        ),
        .testTarget(
            name: "MockUpstreamTests",
            dependencies: ["MockUpstream", "Cutover", "MockUpstreamCLI"],
            path: "Tests/MockUpstreamTests"
        ),
    ]
)
