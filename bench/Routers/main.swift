import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Synchronization

/// `bench/routers.sh`'s router holder: starts one router profile (the same driver a
/// certification uses) in front of the given blue and green, sets green's weight, prints
/// the URL load goes to, and serves until SIGTERM or SIGINT, when it stops the router.
/// Usage: routers-bench PROFILE BLUE_URL GREEN_URL PERCENT WORKDIR
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 5, let percent = Int(arguments[3]), (0...100).contains(percent) else {
    FileHandle.standardError.write(Data("usage: routers-bench PROFILE BLUE_URL GREEN_URL PERCENT(0-100) WORKDIR\n".utf8))
    exit(2)
}

/// The router's life, in a function so that its tasks capture locals, not globals.
func serve(_ arguments: [String], percent: Int) async -> Int32 {
    let profile: RouterProfile
    do {
        profile = try RouterProfile.resolve(arguments[0], suitesFolder: URL(fileURLWithPath: "suites"))
    } catch {
        FileHandle.standardError.write(Data("routers-bench: \(error)\n".utf8))
        return 2
    }
    let driver = profile.driver()
    let workdir = URL(fileURLWithPath: arguments[4])
    do {
        try FileManager.default.createDirectory(at: workdir, withIntermediateDirectories: true)
        let url = try await driver.start(RouterEnvironment(blue: arguments[1], green: arguments[2], workdir: workdir))
        let outcome = await driver.perform(percent == 100 ? .promote : .canary(percent: percent))
        guard outcome.accepted else { throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "canary refused: \(outcome.detail)"]) }
        let build = await driver.build()
        FileHandle.standardOutput.write(Data("{\"url\": \"\(url)\", \"version\": \"\(build.version)\"}\n".utf8))
    } catch {
        FileHandle.standardError.write(Data("routers-bench: \(profile.name): \(error)\n".utf8))
        await driver.stop()
        return 1
    }
    await Stop.signalled()
    await driver.stop()
    return 0
}

/// SIGINT or SIGTERM, read by dispatch sources that live as long as the process.
enum Stop {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func signalled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceFlag()
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { if once.first() { continuation.resume() } }
                source.resume()
                sources.append(source)
            }
        }
    }
}

/// True the first time only: a continuation resumes once, whichever signal came.
final class OnceFlag: Sendable {
    private let done = Mutex(false)
    func first() -> Bool {
        done.withLock { was in
            defer { was = true }; return !was
        }
    }
}

exit(await serve(arguments, percent: percent))
