import ArgumentParser
import Cutover
import Foundation

/// `cutover`: certify blue/green routers for OpenAI-compatible relays.
@main
struct CutoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Chaos and conformance tests for blue/green LLM relay routers.",
        subcommands: [Load.self, Deploy.self])

    /// Bad input exits 2; a failed phase or check exits 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("cutover: \(error)\n".utf8))
            Foundation.exit(2)
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data("cutover: \(fullMessage(for: error))\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
