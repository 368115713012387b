import Foundation

/// The reference router for a package that depends on Cutover: when no build of
/// `bluegreen-router` exists yet, SwiftPM builds it in the Cutover checkout (once, a minute or
/// two; later runs find it there), so that `.reference()` works from a dependent package's
/// `swift test` without a manual step.
enum ReferenceRouterBuild {
    /// Builds the router in the checkout, unless the checkout has no manifest (an installed
    /// Cutover, where the router lies beside `cutover`) or no `swift` is on `PATH`. SwiftPM
    /// locks the build folder, so runs that ask at once build it once.
    static func build() async throws(CutoverError) -> URL {
        let root = CutoverCheckout.root
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) else {
            throw CutoverError.environment("no bluegreen-router build, and no Cutover checkout at \(root.path) to build one in")
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-router-build-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let group: ProcessGroup
        do {
            group = try ProcessGroup.launch("exec swift build --product bluegreen-router --package-path '\(root.path)'", in: root, logFile: log)
        } catch {
            throw CutoverError.environment("cannot run `swift build --product bluegreen-router` in \(root.path): \(error)")
        }
        await group.waitForEnd(stopWhen: { Task.isCancelled })
        await group.stop()
        let built = root.appendingPathComponent(".build/debug/bluegreen-router")
        guard group.exitStatus == 0, FileManager.default.isExecutableFile(atPath: built.path) else {
            throw CutoverError.environment(
                "no bluegreen-router build, and `swift build --product bluegreen-router` in \(root.path) failed (status \(group.exitStatus.map(String.init) ?? "?")): \(group.logTail.suffix(400))"
            )
        }
        return built
    }
}
