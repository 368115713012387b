import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Synchronization

/// Live progress of a suite run: on a terminal one line rewritten in place (phase, time,
/// req/s, ok, dropped, green share) with the timeline's steps above it; otherwise plain
/// lines, a progress line every 5 s.
final class ProgressDisplay: Sendable {
    private let isTerminal = isatty(STDOUT_FILENO) == 1
    private let lastPlain = Mutex<Double>(-10)
    private let lineOpen = Mutex(false)

    var observe: @Sendable (RunEvent) -> Void { { [self] event in handle(event) } }

    private func handle(_ event: RunEvent) {
        switch event {
        case .started(let url, let blue, let green):
            emit("router \(url) · blue \(blue) · green \(green)")
        case .step(let atUs, let text):
            emit(String(format: "  %7.3fs  ", Double(atUs) / 1e6) + text)
        case .progress(let p):
            let line = String(
                format: "  %6.1fs/%.0fs  %-16@ %7.0f req/s  ok %d  dropped %d  green %.1f %%", p.elapsedSeconds, p.durationSeconds, p.phase as NSString,
                p.rate, p.ok, p.dropped, p.greenShare * 100)
            if isTerminal {
                write("\r\u{1B}[2K" + line)
                lineOpen.withLock { $0 = true }
            } else {
                let due = lastPlain.withLock { last in
                    guard p.elapsedSeconds - last >= 5 else { return false }
                    last = p.elapsedSeconds
                    return true
                }
                if due { write(line + "\n") }
            }
        case .loadFinished:
            emit("  load finished; reconciling ledgers and evaluating checks")
        }
    }

    /// A full line, above the live progress line.
    private func emit(_ text: String) {
        let open = lineOpen.withLock { open in
            defer { open = false }
            return open
        }
        write((open && isTerminal ? "\r\u{1B}[2K" : "") + text + "\n")
    }

    func finish() {
        if lineOpen.withLock({ $0 }) { write("\r\u{1B}[2K") }
    }

    /// A reader that went away (`| head`) fails the write, and the run goes on to stop what it started.
    private func write(_ text: String) { try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) }
}

/// Ctrl-C and SIGTERM stop every child process (the router) and remove the scratch
/// folders before the harness exits (130 on Ctrl-C, 143 on SIGTERM), so nothing outlives it.
enum SignalGuard {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                ChildProcess.stopAll()
                ScratchFolders.removeAll()
                FileHandle.standardError.write(Data("\ncutover: interrupted; stopped the router and the mocks\n".utf8))
                exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }
}
