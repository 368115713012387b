import Foundation

/// The package's executables as the tests' own build made them (`swift build --build-tests`
/// builds them beside the test bundle): the CLI runs named suites with them, and the known-bad
/// tables start the reference router from there.
package enum BuiltProduct {
    /// The package's folder (where `Package.swift` is), found from this file.
    static let packageRoot: URL = {
        var root = URL(fileURLWithPath: #filePath)
        while root.path != "/", !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return root
    }()

    /// The executable `name` beside the test bundle.
    package static func url(_ name: String) -> URL { Executable.url(name) }

    /// Whether it exists; the message tells how to build it.
    package static func require(_ name: String) -> (url: URL, missing: String?) {
        let url = url(name)
        return FileManager.default.isExecutableFile(atPath: url.path)
            ? (url, nil) : (url, "\(url.path) is missing: run `make test` (or `swift build --build-tests`) before `swift test`")
    }

    /// The package's `suites/` folder.
    package static var suites: URL { packageRoot.appendingPathComponent("suites") }
}
