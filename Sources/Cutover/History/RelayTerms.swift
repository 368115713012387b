/// What a router may change of an exchange, as its profile declares it (`relay:`,
/// `model_map:`): everything else must reach the upstream as the client sent it and come
/// back as the upstream answered.
package struct RelayTerms: Sendable, Equatable, Codable {
    /// How answers are matched: by their bytes, or by their content.
    package var kind: RelayKind
    /// Models the router may send upstream in place of the one the client asked for
    /// (client model → upstream model), as gateways that map model names do.
    package var modelMap: [String: String]

    package init(kind: RelayKind = .verbatim, modelMap: [String: String] = [:]) {
        self.kind = kind
        self.modelMap = modelMap
    }

    enum CodingKeys: String, CodingKey {
        case kind = "relay", modelMap = "model_map"
    }
}
