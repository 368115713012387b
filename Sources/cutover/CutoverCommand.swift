import ArgumentParser
import CommandLineSupport
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore

/// `cutover`: certify blue/green routers for OpenAI-compatible relays.
@main
struct CutoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Chaos and conformance tests for blue/green LLM relay routers.",
        subcommands: [Run.self, Certify.self, List.self, Load.self, Merge.self, Deploy.self])

    /// Bad input (flags, files) exits 2 with a message that says where and what.
    static func main() async {
        await CommandLineExit.run(Self.self, name: "cutover")
    }
}
