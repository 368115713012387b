import ConfigInput
import Foundation

/// A router configuration file of an `exec` or `http` profile (`files:`): a template beside
/// the profile, rendered with the placeholders when the router starts (blue 100 %, green 0 %)
/// and again before every action that moves the weights, with the weights that action
/// intends. A rendered file replaces the old one in one rename, so a router that watches
/// the file (Traefik's file provider, Envoy's file-based xDS) never reads half of it.
package struct ProfileFile: Sendable, Equatable {
    /// The template's path as the profile names it (relative to the profile's folder).
    package var template: String
    package var text: ProfileTemplate
    /// Where it is rendered: a path with placeholders, relative to `{workdir}`.
    package var path: ProfileTemplate

    /// Reads `{template, path}` and checks the template's placeholders line by line.
    init(_ node: ConfigNode, folder: URL, allowed: Set<String>) throws(ConfigError) {
        let fields = try node.object(allowed: ["template", "path"])
        guard let templateNode = fields["template"] else { throw node.error("missing 'template' (a file beside the profile, rendered with its placeholders)") }
        guard let pathNode = fields["path"] else { throw node.error("missing 'path' (where the rendered file goes, e.g. {workdir}/router.yaml)") }
        template = try templateNode.string()
        let file = (template.hasPrefix("/") ? URL(fileURLWithPath: template) : folder.appendingPathComponent(template)).standardizedFileURL
        let content: String
        do {
            content = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw templateNode.error("cannot read the template '\(file.path)': \(error.localizedDescription)")
        }
        text = try ProfileTemplate(file: content, source: file.path, allowed: allowed)
        path = try ProfileTemplate(pathNode, allowed: ["workdir"])
    }

    /// Renders the template to its path (made absolute under `workdir`) through a temporary
    /// file in the same folder and one rename.
    package func render(_ values: [String: String], workdir: URL) throws {
        let rendered = path.render(values)
        let target = (rendered.hasPrefix("/") ? URL(fileURLWithPath: rendered) : workdir.appendingPathComponent(rendered)).standardizedFileURL
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let scratch = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(getpid()).tmp")
        try Data(text.render(values).utf8).write(to: scratch)
        guard rename(scratch.path, target.path) == 0 else {
            throw RouterError(.noResource, "cannot move \(scratch.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
    }
}
