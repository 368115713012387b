/// A part of a sharded run (a shard's ledger part, the coordinator's part) that cannot be
/// read: which file, and what is wrong with it, as `cutover merge` reports it (exit 2).
package struct PartReadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file's path (or its name, for what is found inside an already read part).
    package var file: String
    package var problem: String

    package init(_ file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    package var description: String { "\(file): \(problem)" }
}
