import MockUpstream

/// Every request reached the upstream as the client sent it: for every upstream execution
/// of one of the run's requests (copies included), the path, the model (or the one the
/// profile's `model_map` allows in its place), the messages, `max_tokens`, `stream`,
/// `stream_options.include_usage` and the `X-Session-ID` header are the client's. A router
/// that rewrites the model, caps the output, drops the stream options or the session key,
/// or truncates the conversation fails, naming the field and the first requests.
/// `X-Request-ID` is not held to it: gateways replace it, and executions are attributed by
/// the identity the body carries. Nor is `X-Session-ID` for a `semantic` gateway (LiteLLM):
/// it makes requests of its own and forwards no client header by design, so it is held to
/// the body alone.
package struct RequestIntegrity: RunCheck {
    package let id = CheckID.requestIntegrity
    package let parameters: Set<String> = []
    package init() {}

    package struct Evidence: CheckEvidence {
        package var executions: Int
        package var altered: Int
        /// Executions altered in each field.
        package var fields: [String: Int]
        /// Executions whose `X-Request-ID` was not the client's (attributed by their body).
        package var replacedRequestIDs: Int
        package var modelMap: [String: String]
        package var examples: [String]
    }

    package func evaluate(_ run: ReconciledRun, _ spec: CheckSpec) -> CheckResult {
        var checked = 0
        var fields: [String: Int] = [:]
        var replaced = 0
        var altered = 0
        var examples: [String] = []
        let modelMap = run.history.relay.modelMap
        guard let plan = run.plan else {
            return .inconclusive(
                name, "the run has no load plan to say what each request asked for",
                Evidence(executions: 0, altered: 0, fields: [:], replacedRequestIDs: 0, modelMap: modelMap, examples: []))
        }
        for env in [ServedBy.blue, .green] {
            run.forEachAttributed(on: env) { index, entry in
                let record = run.records[index]
                checked += 1
                if !run.carriesOwnID(entry, seq: record.seq) { replaced += 1 }
                var differences: [(field: String, text: String)] = []
                let path = record.endpoint == .models ? "/v1/models" : "/v1/chat/completions"
                if entry.path != path { differences.append(("path", "path \(path) became \(entry.path)")) }
                if run.relay == .verbatim, !Self.isSession(entry.sessionID, record.session) {
                    differences.append(("session", "X-Session-ID s\(record.session) became \(entry.sessionID.map { "'\($0)'" } ?? "absent")"))
                }
                if record.endpoint != .models, entry.path == path {
                    let choice = plan.choices(for: UInt64(record.seq))
                    let model = plan.models[choice.modelIndex].name
                    if entry.model != model, entry.model == nil || modelMap[model] != entry.model {
                        differences.append(("model", "model \(model) became \(entry.model ?? "absent")"))
                    }
                    if entry.messagesDigest != record.messagesDigest {
                        differences.append(
                            ("messages", entry.messagesDigest == nil ? "the body no longer parses as a chat request" : "the messages were changed"))
                    }
                    let maxTokens = plan.maxTokens(forSlot: UInt64(record.seq), mixIndex: choice.mixIndex)
                    if entry.maxTokens != maxTokens {
                        differences.append(("max_tokens", "max_tokens \(maxTokens) became \(entry.maxTokens.map(String.init) ?? "absent")"))
                    }
                    let stream = record.endpoint == .chatStream
                    if entry.stream != stream { differences.append(("stream", "stream \(stream) became \(entry.stream)")) }
                    if entry.includeUsage != stream {
                        differences.append(("stream_options", "stream_options.include_usage \(stream) became \(entry.includeUsage)"))
                    }
                }
                guard !differences.isEmpty else { return }
                altered += 1
                for difference in differences { fields[difference.field, default: 0] += 1 }
                if examples.count < CheckResult.sampleLimit {
                    examples.append("\(run.requestID(record)) on \(env.name): " + differences.map(\.text).joined(separator: ", "))
                }
            }
        }
        let evidence = Evidence(
            executions: checked, altered: altered, fields: fields, replacedRequestIDs: replaced, modelMap: modelMap, examples: examples)
        guard checked > 0 else { return .inconclusive(name, "no request of the run reached an upstream", evidence) }
        guard altered > 0 else {
            return CheckResult(
                name: name, status: .pass,
                summary:
                    "\(checked) upstream executions received the request as the client sent it (path, model, messages, max_tokens, stream, stream_options, session)",
                evidence: evidence)
        }
        let named = fields.sorted { $0.value > $1.value }.map { "\($0.key) in \($0.value)" }.joined(separator: ", ")
        return CheckResult(
            name: name, status: .fail, summary: "the router altered requests on their way upstream: \(named) of \(checked) executions; bound 0",
            evidence: evidence)
    }

    /// Whether `header` is session `index`'s key (`s<index>`), read without building a string.
    static func isSession(_ header: String?, _ index: UInt32) -> Bool {
        guard let header, header.utf8.first == UInt8(ascii: "s"), header.utf8.count > 1 else { return false }
        var value: UInt64 = 0
        for byte in header.utf8.dropFirst() {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10, value < UInt64(UInt32.max) else { return false }
            value = value * 10 + UInt64(digit)
        }
        return value == UInt64(index) && (header.utf8.count == 2 || header.utf8.dropFirst().first != UInt8(ascii: "0"))
    }
}

extension RequestIntegrity.Evidence {
    package var offendingRequests: [String] { examples }
}
