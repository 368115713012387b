import ArgumentParser
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore

extension CutoverCommand {
    /// `cutover deploy`: drive a running router through a deployment phase by phase.
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drive a running router through validate, canary, promote, rollback, or show its status.",
            discussion: "Prints the router's status block and a timestamped deployment log. Exit 0 on success, 1 on failure.")

        @Option(help: "The router's admin URL, e.g. http://127.0.0.1:9901.")
        var admin: String

        @Option(help: "validate, canary, promote, rollback or status.")
        var phase: String

        @Option(name: .customLong("canary-percentage"), help: "Share of sessions to move to green (canary phase), 1...100.")
        var canaryPercentage: Int?

        @Option(help: "Bearer token for the admin API (or CUTOVER_ADMIN_TOKEN).")
        var token: String?

        func validate() throws {
            guard DeploymentClient.Phase.names.contains(phase) else {
                throw ValidationError("--phase: expected one of validate|canary|promote|rollback|status, got '\(phase)'")
            }
            guard admin.hasPrefix("http://") || admin.hasPrefix("https://") else {
                throw ValidationError("--admin: expected an http:// URL, got '\(admin)'")
            }
            if let canaryPercentage {
                guard phase == RouterAction.Kind.canary.rawValue else { throw ValidationError("--canary-percentage: only applies to --phase canary") }
                guard (1...100).contains(canaryPercentage) else {
                    throw ValidationError("--canary-percentage: expected 1...100, got \(canaryPercentage)")
                }
            } else if phase == RouterAction.Kind.canary.rawValue {
                throw ValidationError("--phase canary needs --canary-percentage N (1...100)")
            }
        }

        func run() async throws {
            let client = DeploymentClient(adminURL: admin, token: token ?? ProcessInfo.processInfo.environment["CUTOVER_ADMIN_TOKEN"])
            let result = await client.run(DeploymentClient.Phase(name: phase, canaryPercentage: canaryPercentage)!)
            if let status = result.status {
                print("Router \(admin)\(status.version.map { " (bluegreen-router \($0))" } ?? "")")
                print(status.block)
                print("")
            }
            print("Deployment log")
            for line in result.log { print("  " + line) }
            print(result.succeeded ? "\n\(phase): OK" : "\n\(phase): FAILED")
            if !result.succeeded { throw ExitCode.failure }
        }
    }
}
