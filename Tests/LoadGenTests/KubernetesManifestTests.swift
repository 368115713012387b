import Foundation
import Testing
import Yams

@testable import CutoverCLI

/// `deploy/kubernetes/cutover-shards.yaml` (issue 17), checked since no cluster runs here:
/// an Indexed Job of N shards and a coordinator that agree on N, the parts volume, the
/// coordinator's address, and commands that the real CLI parses.
@Suite("Kubernetes manifest")
struct KubernetesManifestTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/kubernetes/cutover-shards.yaml")

    static func documents() throws -> [[String: Any]] {
        let text = try String(contentsOf: file, encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func find(_ documents: [[String: Any]], kind: String, name: String) throws -> [String: Any] {
        try #require(documents.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }, "no \(kind) \(name)")
    }

    /// A value at a path of keys and indexes.
    static func at(_ value: Any?, _ path: Any...) -> Any? {
        path.reduce(value) { current, key in
            if let key = key as? String { return (current as? [String: Any])?[key] }
            if let index = key as? Int, let array = current as? [Any], array.indices.contains(index) { return array[index] }
            return nil
        }
    }

    /// The container's `sh -c` script as the shell would split it, with the variables set.
    static func arguments(_ job: [String: Any], _ variables: [String: String]) throws -> [String] {
        let command = try #require(at(job, "spec", "template", "spec", "containers", 0, "command") as? [String])
        #expect(command.prefix(2) == ["sh", "-c"])
        var script = try #require(command.last)
        for (name, value) in variables { script = script.replacingOccurrences(of: "$\(name)", with: value) }
        var words: [String] = []
        var word = ""
        var quoted = false
        for character in script {
            if character == "\"" { quoted.toggle(); continue }
            if character.isWhitespace, !quoted {
                if !word.isEmpty { words.append(word); word = "" }
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { words.append(word) }
        #expect(words.prefix(2) == ["exec", "cutover"], "\(words)")
        return Array(words.dropFirst(2))
    }

    static func value(of flag: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: flag).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
    }

    @Test func theIndexedJobAndTheCoordinatorAgree() throws {
        let documents = try Self.documents()
        let claim = try Self.find(documents, kind: "PersistentVolumeClaim", name: "cutover-parts")
        #expect(Self.at(claim, "spec", "accessModes") as? [String] == ["ReadWriteMany"])
        let service = try Self.find(documents, kind: "Service", name: "cutover-coordinator")
        let coordinator = try Self.find(documents, kind: "Job", name: "cutover-coordinator")
        let shards = try Self.find(documents, kind: "Job", name: "cutover-shards")
        for job in [coordinator, shards] {
            #expect(Self.at(job, "apiVersion") as? String == "batch/v1")
            #expect(Self.at(job, "spec", "backoffLimit") as? Int == 0)
            #expect(Self.at(job, "spec", "template", "spec", "restartPolicy") as? String == "Never")
            #expect(Self.at(job, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName") as? String == "cutover-parts")
            #expect(Self.at(job, "spec", "template", "spec", "containers", 0, "volumeMounts", 0, "mountPath") as? String == "/parts")
        }
        // The Indexed Job: N pods at once, K from JOB_COMPLETION_INDEX.
        #expect(Self.at(shards, "spec", "completionMode") as? String == "Indexed")
        let count = try #require(Self.at(shards, "spec", "completions") as? Int)
        #expect(Self.at(shards, "spec", "parallelism") as? Int == count)
        // The Service selects the coordinator's pod and forwards the port it listens on.
        let selector = try #require(Self.at(service, "spec", "selector") as? [String: String])
        #expect(Self.at(coordinator, "spec", "template", "metadata", "labels") as? [String: String] == selector)
        let servicePort = try #require(Self.at(service, "spec", "ports", 0, "port") as? Int)
        #expect(Self.at(service, "spec", "ports", 0, "targetPort") as? Int == 7070)

        let lead = try Self.arguments(coordinator, ["POD_IP": "10.0.0.5"])
        #expect(Self.value(of: "--shards", in: lead) == String(count))
        #expect(Self.value(of: "--parts-dir", in: lead) == "/parts")
        #expect(Self.value(of: "--listen", in: lead) == "0.0.0.0:7070" && Self.value(of: "--advertise", in: lead) == "10.0.0.5")
        #expect(lead.contains("--coordinator"))
        for index in [0, count - 1] {
            let shard = try Self.arguments(shards, ["JOB_COMPLETION_INDEX": String(index)])
            #expect(shard[1] == lead[1], "the shards run the coordinator's suite")
            #expect(Self.value(of: "--shard", in: shard) == "\(index)/\(count)")
            #expect(Self.value(of: "--coordinator-url", in: shard) == "http://cutover-coordinator:\(servicePort)")
            #expect(Self.value(of: "--part", in: shard) == "/parts/part-\(index)")
            // The real CLI accepts both commands, flags and values.
            #expect(throws: Never.self) { _ = try CutoverCommand.parseAsRoot(shard) }
        }
        #expect(throws: Never.self) { _ = try CutoverCommand.parseAsRoot(lead) }
    }
}
