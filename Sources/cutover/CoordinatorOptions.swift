import ArgumentParser
import ConfigInput
import Cutover
import Foundation

/// `cutover run SUITE --coordinator --shards N …`: the timeline here, the load on N shards
/// elsewhere (`cutover run SUITE --shard K/N --coordinator-url URL --part FILE`).
struct CoordinatorOptions: ParsableArguments {
    @Flag(
        help:
            "Coordinate N shards on other machines (with --shards N): announce the run on --listen, carry out the timeline, collect their parts from --parts-dir, and judge."
    )
    var coordinator = false

    @Option(name: .customLong("parts-dir"), help: "For a coordinator: the shared folder the shards write part-K to.")
    var partsDir: String?

    @Option(help: "For a coordinator: where shards ask for the run (GET /run), HOST:PORT.")
    var listen = "127.0.0.1:7070"

    @Option(help: "For a coordinator: the host shards reach this machine at (a pod's IP); default: the --listen host.")
    var advertise: String?

    @Option(name: .customLong("start-delay"), help: "For a coordinator: time for the shards to find the run before the common start.")
    var startDelay = "10s"

    @Option(name: .customLong("max-clock-skew"), help: "For a coordinator: a shard whose clock is further off than this makes the run invalid.")
    var maxClockSkew = "50ms"

    /// The remote shards these flags describe, or nil without `--coordinator`.
    func remote(shards: Int?, suiteFile: String) throws -> RemoteShards? {
        guard coordinator else {
            if partsDir != nil { throw ValidationError("--parts-dir belongs to --coordinator") }
            return nil
        }
        guard let shards else { throw ValidationError("--coordinator: needs --shards N, the number of shards it waits for") }
        guard let partsDir else { throw ValidationError("--coordinator: needs --parts-dir DIR, the shared folder the shards write their parts to") }
        let pieces = listen.split(separator: ":")
        guard pieces.count == 2, let port = Int(pieces[1]), (0...65_535).contains(port) else {
            throw ValidationError("--listen: expected HOST:PORT, got '\(listen)'")
        }
        let host = String(pieces[0])
        if advertise == nil, host == "0.0.0.0" || host == "::" {
            throw ValidationError("--listen \(listen): give --advertise HOST, the address shards reach this machine at")
        }
        guard let delay = DurationText.parse(startDelay), delay >= .zero, delay <= .seconds(600) else {
            throw ValidationError("--start-delay: expected a duration up to 10m such as 10s, got '\(startDelay)'")
        }
        guard let skew = DurationText.parse(maxClockSkew), skew > .zero else {
            throw ValidationError("--max-clock-skew: expected a duration such as 50ms, got '\(maxClockSkew)'")
        }
        try FileManager.default.createDirectory(atPath: partsDir, withIntermediateDirectories: true)
        return RemoteShards(
            count: shards, suiteFile: suiteFile, partsFolder: URL(fileURLWithPath: partsDir), listenHost: host, listenPort: port,
            advertiseHost: advertise ?? host, startDelay: delay,
            maxClockSkewMs: Double(skew.microseconds) / 1_000)
    }
}
