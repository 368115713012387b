import Foundation

/// Where the running executable lives, also when it was started through `PATH` or a link
/// (`argv[0]` then says neither): `/proc/self/exe` on Linux.
package enum RunningExecutable {
    package static var url: URL {
        let proc = URL(fileURLWithPath: "/proc/self/exe")
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: proc.path) {
            return URL(fileURLWithPath: target)
        }
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
    }
}
