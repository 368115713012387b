import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// The suite format, read strictly: a good suite parses to what it says, and each kind of
/// mistake is an error naming the file, the line and the field.
@Suite("Suite format")
struct SuiteParsingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theSpecExampleParses() throws {
        let path = Self.repository.appendingPathComponent("suites/canary-promote.yaml").path
        let suite = try Suite.load(file: path)
        #expect(suite.name == "canary-promote")
        #expect(suite.seed == 42 && suite.duration == .seconds(40) && suite.router == "reference")
        #expect(suite.upstreams[.blue]?.models == ["gpt-4.1", "deepseek-v3.2"])
        #expect(suite.load.model == .open(rate: 300, rampTo: nil))
        #expect(suite.load.sessions == 2000)
        #expect(suite.load.mix.map(\.endpoint) == [.chat, .chatStream, .models])
        #expect(suite.load.mix.map(\.maxTokens) == [16, 32, 16])
        #expect(suite.phases == ["baseline", "canary-10", "canary-50", "promoted"])
        #expect(suite.timeline.map(\.event) == [nil, .action(.validate), .action(.canary(percent: 10)), .action(.canary(percent: 50)), .action(.promote)])
        #expect(suite.timeline.allSatisfy { $0.expect == .accepted })
        #expect(suite.timeline.map(\.line) == [18, 19, 20, 21, 22])
        #expect(
            suite.checks.map(\.name) == [
                "ZeroDropped", "NoDuplicateExecution", "SplitAccuracy", "Stickiness", "MonotoneMovement", "ZeroWeightIsolation", "ConvergenceTime",
                "LatencyBudget", "SwitchTail", "GeneratorValid",
            ])
        let split = try #require(suite.checks.first { $0.name == "SplitAccuracy" })
        #expect(split.phases == ["canary-10", "canary-50"] && split.alpha == 0.001)
        #expect(suite.checks.first { $0.name == "ConvergenceTime" }?.max == .seconds(1))
    }

    /// Timing is judged wherever a certification suite switches: each one whose timeline
    /// has an action SwitchTail judges (a crash's toll is CrashRecovery's, a validate moves
    /// nothing) lists SwitchTail, so a router that stalls at a switch cannot pass the set.
    @Test func everyCertificationSuiteThatSwitchesJudgesTheTail() throws {
        let library = SuiteLibrary(directory: Self.repository.appendingPathComponent("suites"))
        let set = try library.set("certification")
        #expect(set.suites.count >= 20)
        for name in set.suites {
            let suite = try library.suite(name)
            let switches = suite.timeline.compactMap { entry -> RouterAction? in
                guard case .action(let action) = entry.event, action != .validate, action != .crash else { return nil }
                return action
            }
            guard !switches.isEmpty else { continue }
            #expect(suite.checks.contains { $0.name == "SwitchTail" }, "\(name) switches (\(switches)) but does not judge the tail")
        }
    }

    @Test func faultsAndHealsOnTheTimeline() throws {
        let suite = try Suite.parse(
            yaml: """
                name: outage
                duration: 30s
                load: {model: closed, connections: 8}
                timeline:
                  - {at: 0s, phase: baseline}
                  - {at: 8s, fault: {target: green, kind: outage, mode: refuse}}
                  - {at: 10s, fault: {target: blue, id: slow, kind: latency, distribution: {type: fixed, ms: 200}}}
                  - {at: 20s, heal: green}
                  - {at: 22s, heal: {target: blue, fault: slow}}
                  - {at: 25s, action: restart}
                checks: [ZeroDropped, StateSurvivesRestart]
                """, source: "outage.yaml")
        #expect(suite.load.model == .closed(connections: 8))
        guard case .fault(let target, let fault) = suite.timeline[1].event else { Issue.record("not a fault"); return }
        #expect(target == .green && fault.kind == .outage(.refuse))
        guard case .fault(.blue, let slow) = suite.timeline[2].event else { Issue.record("not a fault"); return }
        #expect(slow.id == "slow")
        #expect(suite.timeline[3].event == .heal(target: .green, id: nil))
        #expect(suite.timeline[4].event == .heal(target: .blue, id: "slow"))
        #expect(suite.timeline[5].event == .action(.restart))
    }

    static let valid = """
        name: s
        duration: 20s
        load: {rate: 10}
        timeline:
          - {at: 0s, phase: baseline}
          - {at: 5s, action: canary, percent: 10, phase: canary}
        checks: [ZeroDropped]
        """

    @Test func mixLengthsAreDistributionsWithTheirErrors() throws {
        func load(_ entry: String) throws -> Suite {
            try Suite.parse(yaml: Self.valid.replacingOccurrences(of: "load: {rate: 10}", with: "load: {rate: 10, mix: [\(entry)]}"), source: "t.yaml")
        }
        let suite = try load(
            "{endpoint: chat-stream, max_tokens: {type: uniform, min: 200, max: 2000}, prompt_bytes: {type: table, values: [[1024, 3], [65536, 1]]}}")
        #expect(suite.load.mix[0].tokens == .uniform(min: 200, max: 2_000))
        #expect(suite.load.mix[0].promptBytes == .table([.init(value: 1_024, weight: 3), .init(value: 65_536, weight: 1)]))
        #expect(try load("{endpoint: chat, max_tokens: 32}").load.mix[0].tokens == .fixed(32))
        for (entry, field, words) in [
            ("{endpoint: chat, max_tokens: {type: uniform, min: 20, max: 10}}", "load.mix[0].max_tokens.max", "at least 'min'"),
            ("{endpoint: chat, max_tokens: {type: zipf}}", "load.mix[0].max_tokens.type", "expected one of fixed|uniform|lognormal|table"),
            ("{endpoint: chat, max_tokens: {min: 1}}", "load.mix[0].max_tokens", "missing 'type'"),
            ("{endpoint: chat, prompt_bytes: {type: table, values: [[10]]}}", "load.mix[0].prompt_bytes.values[0]", "expected [value, weight]"),
        ] {
            #expect {
                try load(entry)
            } throws: { error in
                guard let error = error as? ConfigError else { return false }
                let ok = error.field == field && error.message.contains(words)
                if !ok { Issue.record("got \(error) for \(entry)") }
                return ok
            }
        }
    }

    @Test func arrivalsThinkTimeAndTurnsBelongToTheirModel() throws {
        func load(_ text: String) throws -> Suite {
            try Suite.parse(yaml: Self.valid.replacingOccurrences(of: "load: {rate: 10}", with: "load: \(text)"), source: "t.yaml")
        }
        #expect(try load("{rate: 10, arrival: poisson, turns: 4}").load.arrival == .poisson)
        #expect(try load("{rate: 10, arrival: {type: gamma, burstiness: 0.5}}").load.arrival == .gamma(burstiness: 0.5))
        let closed = try load("{connections: 8, think_time_ms: {type: uniform, min: 500, max: 3000}, turns: 5}").load
        #expect(closed.thinkTimeMs == .uniform(min: 500, max: 3_000) && closed.turns == 5)
        for (text, field, words) in [
            ("{connections: 8, arrival: poisson}", "load.arrival", "belongs to the open model"),
            ("{rate: 10, think_time_ms: 100}", "load.think_time_ms", "belongs to the closed model"),
            ("{rate: 10, arrival: gamma}", "load.arrival", "needs its burstiness"),
            ("{rate: 10, arrival: {type: gamma}}", "load.arrival", "needs 'burstiness'"),
            ("{rate: 10, turns: 0}", "load.turns", "expected an integer in 1"),
        ] {
            #expect {
                try load(text)
            } throws: { error in
                guard let error = error as? ConfigError else { return false }
                let ok = error.field == field && error.message.contains(words)
                if !ok { Issue.record("got \(error) for \(text)") }
                return ok
            }
        }
    }

    @Test func anSLOSetsGoodputTargets() throws {
        let suite = try Suite.parse(yaml: Self.valid + "\nslo: {ttft: 2s, itl: 100ms}\n", source: "t.yaml")
        #expect(suite.slo == StreamMetrics.SLO(firstTokenMs: 2_000, interTokenMs: 100))
        #expect {
            try Suite.parse(yaml: Self.valid + "\nslo: {ttft: soon}\n", source: "t.yaml")
        } throws: { error in
            (error as? ConfigError).map { $0.field == "slo.ttft" && $0.message.contains("expected a duration") } ?? false
        }
        #expect {
            try Suite.parse(yaml: Self.valid + "\nslo: {tpot: 1s}\n", source: "t.yaml")
        } throws: { error in
            (error as? ConfigError).map { $0.field == "slo.tpot" && $0.message.contains("unknown key") } ?? false
        }
    }

    @Test func loadTimeoutsAreSettingsWithTheirErrors() throws {
        let suite = try Suite.parse(
            yaml: Self.valid.replacingOccurrences(of: "load: {rate: 10}", with: "load: {rate: 10, timeout: 90s, connect_timeout: 250ms}"), source: "t.yaml")
        #expect(suite.load.timeout == .seconds(90))
        #expect(suite.load.connectTimeout == .milliseconds(250))
        #expect {
            try Suite.parse(yaml: Self.valid.replacingOccurrences(of: "load: {rate: 10}", with: "load: {rate: 10, connect_timeout: soon}"), source: "t.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == 3 && error.field == "load.connect_timeout" && error.message.contains("expected a duration")
        }
    }

    @Test(arguments: [
        // (a change to the valid suite, the line, the field, words of the message)
        ("colour: blue\n", 1, "colour", "unknown key 'colour'"),
        ("seed: -1\n", 1, "seed", "expected an integer in 0"),
        ("!duration: 20s", 2, "duration", "expected a duration such as 5s"),
        ("!load: {rate: 10}", 3, "load.connectionz", "unknown key 'connectionz'"),
        ("!- {at: 5s, action: canary, percent: 10, phase: canary}", 6, "timeline[1].action", "expected one of validate|canary|promote|rollback|restart"),
        ("!- {at: 0s, phase: baseline}", 6, "timeline[1].at", "times out of order"),
        ("!- {at: 5s, action: canary, percent: 10, phase: canary}", 6, "timeline[1].percent", "expected an integer in 0...100"),
        ("!checks: [ZeroDropped]", 7, "checks[0]", "unknown check 'ZeroDroped'"),
        ("!checks: [ZeroDropped]", 7, "checks[0].phases[0]", "no phase 'canary-50' in the timeline"),
        ("!checks: [ZeroDropped]", 7, "checks[0].alpha", "unknown key 'alpha'"),
        ("!- {at: 0s, phase: baseline}", 5, "timeline[0].fault.kind", "expected one of bandwidth|body|idle-close|latency"),
        ("!- {at: 5s, action: canary, percent: 10, phase: canary}", 6, "timeline[1].at", "after the suite's duration"),
        ("!- {at: 5s, action: canary, percent: 10, phase: canary}", 6, "timeline[1].expect", "expected one of accepted|refused"),
        ("!- {at: 0s, phase: baseline}", 5, "timeline[0].expect", "'expect' applies only to a step with an 'action'"),
    ])
    func badSuitesNameFileLineAndField(change: String, line: Int, field: String, message: String) {
        let replacements: [Int: (String, String)] = [
            2: ("duration: 20s", "duration: soon"),
            3: ("load: {rate: 10}", "load: {rate: 10, connectionz: 4}"),
        ]
        var text = Self.valid
        if change.hasPrefix("!") {
            let target = String(change.dropFirst())
            let lines = text.components(separatedBy: "\n")
            let index = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == target.trimmingCharacters(in: .whitespaces) }!
            var replaced = lines
            replaced[index] = Self.broken(field: field, line: lines[index]) ?? replacements[line]!.1
            text = replaced.joined(separator: "\n")
        } else {
            text = change + text
        }
        #expect {
            try Suite.parse(yaml: text, source: "bad.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            let ok = error.source == "bad.yaml" && error.line == line && error.field == field && error.message.contains(message)
            if !ok { Issue.record("got \(error) for:\n\(text)") }
            return ok
        }
    }

    /// The broken version of one line of the valid suite, for each field under test.
    static func broken(field: String, line: String) -> String? {
        let indent = String(line.prefix { $0 == " " })
        switch field {
        case "timeline[1].action": return indent + "- {at: 5s, action: launch, phase: canary}"
        case "timeline[1].at" where line.contains("canary"): return indent + "- {at: 25s, action: canary, percent: 10, phase: canary}"
        case "timeline[1].at": return indent + "- {at: 9s, phase: baseline}\n" + indent + "- {at: 5s, phase: later}"
        case "timeline[1].percent": return indent + "- {at: 5s, action: canary, percent: 150, phase: canary}"
        case "checks[0]": return "checks: [ZeroDroped]"
        case "checks[0].phases[0]": return "checks: [{name: ZeroDropped, phases: [canary-50]}]"
        case "checks[0].alpha": return "checks: [{name: ZeroDropped, alpha: 0.01}]"
        case "timeline[0].fault.kind": return indent + "- {at: 0s, fault: {target: green, kind: meteor}}"
        case "timeline[1].expect": return indent + "- {at: 5s, action: canary, percent: 10, expect: maybe, phase: canary}"
        case "timeline[0].expect": return indent + "- {at: 0s, phase: baseline, expect: refused}"
        default: return nil
        }
    }

    @Test func missingSectionsAndBadFilesAreNamed() {
        #expect(throws: ConfigError.self) { try Suite.parse(yaml: "name: s\nduration: 5s\n", source: "x.yaml") }
        #expect {
            try Suite.load(file: "/nonexistent/suite.yaml")
        } throws: { error in
            (error as? ConfigError)?.source == "/nonexistent/suite.yaml"
        }
        #expect {
            try Suite.parse(yaml: "name: s\nduration: 5s\nload: {rate: 1}\ntimeline: []\nchecks: [ZeroDropped]\n", source: "x.yaml")
        } throws: { error in
            (error as? ConfigError)?.field == "timeline"
        }
    }
}
