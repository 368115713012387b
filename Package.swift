// swift-tools-version:6.0
import PackageDescription

/// One package for the whole product: the libcurl module, the mock upstream relay,
/// the harness library and its executables, and the tests.
let package = Package(
    name: "Cutover",
    platforms: [.macOS(.v15)],
    products: [
        /// Certify a router from Swift: `Cutover.run(suite:router:)` (SPEC §6).
        .library(name: "Cutover", targets: ["Cutover"]),
        /// The mock upstream relay alone, for tests that need only the mock.
        .library(name: "MockUpstream", targets: ["MockUpstream"]),
        .executable(name: "mock-upstream", targets: ["MockUpstreamCLI"]),
        .executable(name: "bluegreen-router", targets: ["BlueGreenRouterCLI"]),
        .executable(name: "cutover", targets: ["CutoverCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        /// libcurl (libcurl4-openssl-dev) with typed shims for its variadic calls.
        .systemLibrary(
            name: "CCurl",
            path: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /// An HTTP client on libcurl: the harness's requests, health checks and admin calls.
        .target(name: "CurlHTTP", dependencies: ["CCurl"], path: "Sources/CurlHTTP"),
        /// YAML and JSON input that remembers file, line and field, for precise errors.
        .target(
            name: "ConfigInput",
            dependencies: [.product(name: "Yams", package: "Yams")],
            path: "Sources/ConfigInput"
        ),
        /// A small HTTP/1.1 server on SwiftNIO that carries out planned responses,
        /// including transport faults; serves the mock and the router's admin API.
        .target(
            name: "HTTPServerCore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/HTTPServerCore"
        ),
        /// The executables' shared entry point (bad input exits 2 with a precise message)
        /// and server start-up (stderr logging, the ready line after the signal handlers).
        .target(
            name: "CommandLineSupport",
            dependencies: [
                "ConfigInput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/CommandLineSupport"
        ),
        /// The mock OpenAI-compatible relay with fault injection.
        .target(
            name: "MockUpstream",
            dependencies: [
                "ConfigInput",
                "HTTPServerCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "mock-upstream/Sources/MockUpstream"
        ),
        .executableTarget(
            name: "MockUpstreamCLI",
            dependencies: [
                "CommandLineSupport",
                "MockUpstream",
                "ConfigInput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "mock-upstream/Sources/mock-upstream"
        ),
        /// The reference blue/green router: proxy, selection, health, admin API, state.
        .target(
            name: "BlueGreenRouter",
            dependencies: [
                "ConfigInput",
                "CurlHTTP",
                "HTTPServerCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/BlueGreenRouter"
        ),
        .executableTarget(
            name: "BlueGreenRouterCLI",
            dependencies: [
                "CommandLineSupport",
                "BlueGreenRouter",
                "ConfigInput",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/bluegreen-router"
        ),
        /// `cutover`: the harness CLI (run, certify, load, list, merge and deploy).
        .executableTarget(
            name: "CutoverCLI",
            dependencies: [
                "CommandLineSupport",
                "Cutover", "ConfigInput", "CurlHTTP", "HTTPServerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/cutover"
        ),
        /// The harness library: suites, timeline, load generator, ledger, checks and reports;
        /// its public API is `Cutover.run(suite:router:)`, and it re-exports the mock.
        .target(
            name: "Cutover",
            dependencies: [
                "CCurl", "CurlHTTP", "MockUpstream", "ConfigInput", "HTTPServerCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Sources/Cutover"
        ),
        /// Helpers shared by the test targets: live mocks, faults, polling, executables.
        .target(
            name: "CutoverTestSupport",
            dependencies: [
                "Cutover", "ConfigInput", "CurlHTTP", "HTTPServerCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CutoverTestSupport"
        ),
        .testTarget(
            name: "MockUpstreamTests",
            dependencies: ["MockUpstream", "Cutover", "CutoverTestSupport", "MockUpstreamCLI"],
            path: "Tests/MockUpstreamTests"
        ),
        .testTarget(
            name: "LoadGenTests",
            dependencies: [
                "Cutover", "CutoverCLI", "CutoverTestSupport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LoadGenTests"
        ),
        .testTarget(
            name: "SuiteTests",
            dependencies: ["Cutover", "CutoverTestSupport"],
            path: "Tests/SuiteTests"
        ),
        /// Suites end to end: the named suites through the CLI, and the known-bad routers.
        .testTarget(
            name: "RunTests",
            dependencies: ["Cutover", "CutoverTestSupport", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/RunTests"
        ),
        .testTarget(
            name: "RouterTests",
            dependencies: ["BlueGreenRouter", "Cutover", "CutoverTestSupport", "BlueGreenRouterCLI", "CutoverCLI"],
            path: "Tests/RouterTests"
        ),
    ]
)

/// The bench executables (`bench/*.sh`) join the package only when a bench script asks for
/// them (`CUTOVER_BENCH=1`), so that the test build (`swift build --build-tests`, which builds
/// every executable) neither compiles nor links them. They stay in this package, not one of
/// their own, because they drive its package-internal parts (the ledger's records, the known-bad
/// routers of the test support).
if Context.environment["CUTOVER_BENCH"] == "1" {
    package.products += [
        .executable(name: "checks-bench", targets: ["ChecksBench"]),
        .executable(name: "false-alarms-bench", targets: ["FalseAlarms"]),
        .executable(name: "generator-clock-bench", targets: ["GeneratorClock"]),
        .executable(name: "routers-bench", targets: ["Routers"]),
        .executable(name: "nio-floor", targets: ["NIOFloor"]),
    ]
    package.targets += [
        /// `bench/checks.sh`: every check over a synthetic million-request run.
        .executableTarget(name: "ChecksBench", dependencies: ["Cutover", "HTTPServerCore"], path: "bench/ChecksBench"),
        /// `bench/false-alarms.sh`: a suite N times against the reference or the slow-switch router.
        .executableTarget(name: "FalseAlarms", dependencies: ["Cutover", "CutoverTestSupport"], path: "bench/FalseAlarms"),
        /// `bench/generator-clock.sh`: the generator's lag with the mock and a suite's other work in its process or not.
        .executableTarget(name: "GeneratorClock", dependencies: ["Cutover", "MockUpstream"], path: "bench/GeneratorClock"),
        /// `bench/routers.sh`: a router profile held up at a weight while wrk measures it.
        .executableTarget(name: "Routers", dependencies: ["Cutover"], path: "bench/Routers"),
        /// `bench/routers.sh`: SwiftNIO's floor, a byte relay that parses nothing.
        .executableTarget(
            name: "NIOFloor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/NIOFloor"),
    ]
}
