// swift-tools-version:6.0
import PackageDescription

/// A router team's own package: it depends on Cutover (here by path; by URL in yours)
/// and certifies the reference router from its own `swift test`.
let package = Package(
    name: "CertifyReference",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Cutover", path: "../..")
    ],
    targets: [
        .testTarget(
            name: "CertifyReferenceTests",
            dependencies: [
                .product(name: "Cutover", package: "Cutover"),
                .product(name: "MockUpstream", package: "Cutover"),
            ]
        )
    ]
)
