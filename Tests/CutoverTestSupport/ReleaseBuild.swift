import Foundation

/// The release executables `make test` builds before `swift test`: named suites run at
/// their real rates, which a debug router and debug mocks cannot serve on two cores.
package enum ReleaseBuild {
    /// The package's folder (where `Package.swift` is), found from this file.
    static let packageRoot: URL = {
        var root = URL(fileURLWithPath: #filePath)
        while root.path != "/", !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return root
    }()

    /// `<package>/.build/release/<name>`.
    package static func url(_ name: String) -> URL { packageRoot.appendingPathComponent(".build/release/\(name)") }

    /// Whether it exists; the message tells how to build it.
    package static func require(_ name: String) -> (url: URL, missing: String?) {
        let url = url(name)
        return FileManager.default.isExecutableFile(atPath: url.path)
            ? (url, nil) : (url, "\(url.path) is missing: run `make test` (or `swift build -c release`) before `swift test`")
    }

    /// The package's `suites/` folder.
    package static var suites: URL { packageRoot.appendingPathComponent("suites") }
}
