import ConfigInput
import Foundation

/// The named suites and suite sets on disk (`suites/*.yaml`, `suites/sets/*.yaml`): what
/// `cutover list` shows and what `cutover run NAME` and `cutover certify` resolve.
package struct SuiteLibrary: Sendable {
    package let directory: URL

    package init(directory: URL) {
        self.directory = directory
    }

    /// `$CUTOVER_SUITES`, else `./suites`, else the `suites` folder of the checkout the
    /// executable was built in (`.build/<config>/cutover` → `suites/`), else the one of
    /// the checkout this library was built from (a package that depends on Cutover).
    package static func locate() -> SuiteLibrary {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["CUTOVER_SUITES"], !env.isEmpty {
            return SuiteLibrary(directory: URL(fileURLWithPath: env))
        }
        let local = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("suites")
        if fm.fileExists(atPath: local.appendingPathComponent("smoke.yaml").path) { return SuiteLibrary(directory: local) }
        var folder = RunningExecutable.url.deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("suites")
            if fm.fileExists(atPath: candidate.appendingPathComponent("smoke.yaml").path) { return SuiteLibrary(directory: candidate) }
            folder.deleteLastPathComponent()
        }
        return SuiteLibrary(directory: CutoverCheckout.suites ?? local)
    }

    /// Suite names, sorted.
    package func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Set names (`suites/sets/NAME.yaml`), sorted.
    package func setNames() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("sets").path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The file a suite name or path stands for (what a shard process loads).
    package func file(_ nameOrFile: String) -> String {
        if nameOrFile.hasSuffix(".yaml") || nameOrFile.hasSuffix(".yml") || nameOrFile.contains("/") {
            return URL(fileURLWithPath: nameOrFile).standardizedFileURL.path
        }
        return directory.appendingPathComponent("\(nameOrFile).yaml").path
    }

    /// A suite by name, or a suite file by path.
    package func suite(_ nameOrFile: String) throws(ConfigError) -> Suite {
        if nameOrFile.hasSuffix(".yaml") || nameOrFile.hasSuffix(".yml") || nameOrFile.contains("/") {
            return try Suite.load(file: nameOrFile)
        }
        let file = directory.appendingPathComponent("\(nameOrFile).yaml")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ConfigError(
                source: nameOrFile, line: nil, field: "suite",
                message: "no suite named '\(nameOrFile)' in \(directory.path) (known: \(names().joined(separator: ", ")))")
        }
        return try Suite.load(file: file.path)
    }

    /// A set of suites: `{name, description, suites: [names]}`.
    package struct SuiteSet: Sendable {
        package var name: String
        package var description: String
        package var suites: [String]
    }

    package func set(_ name: String) throws(ConfigError) -> SuiteSet {
        let path = directory.appendingPathComponent("sets/\(name).yaml").path
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(source: path, line: nil, field: "", message: "cannot read suite set '\(name)' (known: \(setNames().joined(separator: ", ")))")
        }
        let root = try ConfigNode.parseYAML(text, source: path)
        let fields = try root.object(allowed: ["name", "description", "suites"])
        guard let list = fields["suites"] else { throw root.error("missing 'suites' (a list of suite names)") }
        var suites: [String] = []
        for item in try list.array() {
            let suite = try item.string()
            guard names().contains(suite) else { throw item.error("no suite named '\(suite)' in \(directory.path)") }
            suites.append(suite)
        }
        guard !suites.isEmpty else { throw list.error("expected at least one suite") }
        return SuiteSet(name: try fields["name"]?.string() ?? name, description: try fields["description"]?.string() ?? "", suites: suites)
    }
}
