import ArgumentParser
import ConfigInput
import Foundation

/// The shared entry point of Cutover's executables: runs a command and turns bad input
/// (flags, config and state files) into exit code 2 with a message that names what and
/// where, instead of ArgumentParser's usage exit code.
package enum CommandLineExit {
    package static func run<Command: ParsableCommand>(_ type: Command.Type, name: String) async {
        // A reader that goes away (`cutover run … | head`) must not kill the process with
        // SIGPIPE before it stopped the children it started: the write fails instead, and
        // the run ends as it would have, stopping the router and its scratch folders.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try type.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(2)
        } catch {
            if type.exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data("\(name): \(type.fullMessage(for: error))\n".utf8))
                exit(2)
            }
            type.exit(withError: error)
        }
    }
}
