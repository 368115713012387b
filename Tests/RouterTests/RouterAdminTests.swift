import BlueGreenRouter
import ConfigInput
import CurlHTTP
import Cutover
import Foundation
import HTTPServerCore
import Testing

/// The admin API's answers to good and bad input, its token, its metrics, and the state file.
@Suite("Router admin API")
struct RouterAdminTests {
    @Test func statusReportsWeightsCountersAndHealth() async throws {
        try await withRig { rig in
            #expect(await rig.admin("POST", "/admin/validate").status == 200)
            #expect(await rig.admin("POST", "/admin/canary", #"{"percent":25}"#).status == 200)
            for i in 0..<40 { _ = await rig.environment(session: "st\(i)") }
            let status = jsonObject(await rig.admin("GET", "/admin/status"))
            #expect(status["active"] as? String == "blue")
            #expect(status["canary_percentage"] as? Int == 25)
            #expect(status["weights"] as? [String: Int] == ["blue": 75, "green": 25])
            let counters = try #require(status["counters"] as? [String: Int])
            #expect(counters["total"] == 40 && counters["blue"]! + counters["green"]! == 40)
            let ratio = try #require(status["green_ratio"] as? Double)
            #expect(abs(ratio - Double(counters["green"]!) / 40) < 0.001)
            let health = try #require(status["health"] as? [String: [String: Any]])
            #expect(health["blue"]?["status"] as? String == "healthy")
            #expect(health["green"]?["latency_ms"] is Double)
            #expect(status["deployment_started"] is String && status["last_switch"] is String)
        }
    }

    @Test func validateFailsWithTheReasonWhenAnEnvironmentIsDown() async throws {
        try await withRig { rig in
            try await rig.blue.setFaults(faults("[{id: down, kind: outage, mode: refuse}]"))
            let response = await rig.admin("POST", "/admin/validate")
            #expect(response.status == 409)
            let health = jsonObject(response)["health"] as? [String: [String: Any]]
            #expect(health?["blue"]?["status"] as? String == "unhealthy")
            #expect(health?["green"]?["status"] as? String == "healthy")
        }
    }

    @Test(arguments: [
        ("", "not valid JSON", nil as String?),
        (#"{"percent":"ten"}"#, "expected an integer", "percent"),
        (#"{"percent":101}"#, "expected an integer in 0...100", "percent"),
        (#"{"percent":-1}"#, "expected an integer in 0...100", "percent"),
        (#"{"pct":10}"#, "unknown key 'pct'", "pct"),
        ("{}", "missing 'percent'", nil),
        (#"[10]"#, "expected a mapping", nil),
    ])
    func badCanaryBodiesAre400NamingTheField(body: String, message: String, field: String?) async throws {
        try await withRig { rig in
            let response = await rig.admin("POST", "/admin/canary", body)
            #expect(response.status == 400)
            let error = try #require(jsonObject(response)["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains(message) == true, "\(error)")
            #expect(error["field"] as? String == field)
            #expect(rig.router.state.greenWeight == 0)
        }
    }

    @Test func unknownRoutesAndMethodsGetJSONErrors() async throws {
        try await withRig { rig in
            #expect(await rig.admin("GET", "/admin/canary").status == 405)
            #expect(await rig.admin("DELETE", "/admin/status").status == 405)
            let missing = await rig.admin("GET", "/admin/everything")
            #expect(missing.status == 404)
            #expect((jsonObject(missing)["error"] as? [String: Any])?["message"] is String)
        }
    }

    @Test func adminTokenIsRequiredWhenConfigured() async throws {
        try await withRig(configure: { $0.adminToken = "s3cret" }) { rig in
            #expect(await rig.admin("GET", "/admin/status").status == 401)
            #expect(await rig.admin("POST", "/admin/promote", token: "wrong").status == 401)
            #expect(rig.router.state.greenWeight == 0)
            #expect(await rig.admin("GET", "/metrics").status == 401)
            #expect(await rig.admin("POST", "/admin/promote", token: "s3cret").status == 200)
            #expect(rig.router.state.greenWeight == 100)
            // The proxy itself needs no token.
            #expect(await rig.client.get(rig.url + "/v1/models").status == 200)
        }
    }

    @Test func metricsAreValidPrometheusTextWithTheCounters() async throws {
        try await withRig { rig in
            _ = await rig.admin("POST", "/admin/canary", #"{"percent":50}"#)
            for i in 0..<30 { _ = await rig.environment(session: "m\(i)") }
            let response = await rig.admin("GET", "/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true)
            var samples: [String: Double] = [:]
            let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})?) (-?[0-9.]+(e[+-]?[0-9]+)?)$/
            for line in response.text.split(separator: "\n") where !line.hasPrefix("#") {
                let match = try #require(try sample.wholeMatch(in: String(line)), "not a sample line: \(line)")
                samples[String(match.output.1)] = Double(match.output.4)
            }
            let status = jsonObject(await rig.admin("GET", "/admin/status"))
            let counters = try #require(status["counters"] as? [String: Int])
            #expect(samples[#"bluegreen_requests_total{environment="blue"}"#] == Double(counters["blue"]!))
            #expect(samples[#"bluegreen_requests_total{environment="green"}"#] == Double(counters["green"]!))
            #expect(samples["bluegreen_green_weight_percent"] == 50)
            #expect(samples[#"bluegreen_active{environment="blue"}"#] == 1)
        }
    }

    @Test func stateFileErrorsNameTheFileAndField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-badstate-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"green_weight": 250, "active": "blue"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try StateFile(path: path).load()
        } throws: { error in
            let error = error as? ConfigError
            return error?.source == path && error?.field == "green_weight" && error?.message.contains("0...100") == true
        }
        try #"{"green_weight": 20, "active": "purple"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try StateFile(path: path).load() }
        let record = RouterState.DeploymentRecord(
            greenWeight: 20, active: .blue, deploymentStarted: Date(timeIntervalSince1970: 1_800_000_000), lastSwitch: nil)
        try StateFile(path: path).save(record)
        #expect(try StateFile(path: path).load() == record)
    }
}
