import Foundation

/// The Cutover source checkout this library was built from. A package that depends on
/// Cutover finds the named suites and the reference router's build here: SwiftPM keeps
/// the checkout beside the build (a path dependency, or `.build/checkouts/…`).
enum CutoverCheckout {
    /// `<checkout>/Sources/Cutover/CutoverCheckout.swift` → `<checkout>`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The checkout's `suites` folder, if this is a checkout with suites.
    static var suites: URL? {
        let folder = root.appendingPathComponent("suites")
        return FileManager.default.fileExists(atPath: folder.appendingPathComponent("smoke.yaml").path) ? folder : nil
    }

    /// Builds of `product` in the checkout (`make test` builds debug, `make demo` release),
    /// the newest first: an older build of the other configuration is a stale one.
    static func builds(of product: String) -> [URL] {
        let candidates = ["release", "debug"].map { root.appendingPathComponent(".build/\($0)/\(product)") }
        func modified(_ url: URL) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
        }
        return candidates.sorted { modified($0) > modified($1) }
    }
}
