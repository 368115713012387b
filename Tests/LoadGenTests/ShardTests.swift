import CutoverTestSupport
import Foundation
import Testing

@testable import Cutover

/// One schedule split over shards (issue 17): every shard carries its stripe of the one
/// global schedule, and the merged parts are the run one generator would have made; a set
/// of parts that cannot make one run is refused, naming the part.
@Suite("Shards", .serialized, .sharesTheMachine)
struct ShardTests {
    static func plan(url: String) -> LoadPlan {
        var plan = LoadPlan(url: url, model: .open(rate: 300), duration: .seconds(1))
        plan.seed = 21
        plan.sessions = 150
        plan.mix = [LoadPlan.MixEntry(endpoint: .chat, weight: 3), LoadPlan.MixEntry(endpoint: .models, weight: 1)]
        plan.runID = "shards-21"
        return plan
    }

    /// What decides the schedule, slot by slot: sequence, session, endpoint, intended time.
    static func schedule(_ records: [LedgerRecord]) -> [String] {
        records.map { "\($0.seq) s\($0.session) \($0.endpoint.name) \($0.intendedUs)" }
    }

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func oneTwoAndFourShardsCarryTheScheduleOfOneGenerator() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withMock { mock in
            let single = await LoadGenerator.run(Self.plan(url: mock.url))
            #expect(single.ledger.records.count == 300 && single.valid)
            for count in [1, 2, 4] {
                var parts: [(file: String, part: LedgerPart)] = []
                for index in 0..<count {
                    var plan = Self.plan(url: mock.url)
                    plan.shard = Shard(index: index, count: count)
                    let result = await LoadGenerator.run(plan)
                    #expect(result.ledger.records.allSatisfy { plan.shard.owns(Int($0.seq)) })
                    let file = dir.appendingPathComponent("part-\(count)-\(index)")
                    try LedgerPart(result: result, source: "load", startAtMs: nil, wallStartMs: 0, wokeAtMs: 0, clockOffsetMs: nil).write(to: file)
                    parts.append((file.lastPathComponent, try LedgerPart.read(file)))
                }
                let merged = try PartMerge.merge(parts)
                #expect(Self.schedule(merged.ledger.records) == Self.schedule(single.ledger.records), "\(count) shards")
                #expect(merged.ledger.records.allSatisfy { $0.outcome == .ok }, "\(count) shards")
                #expect(merged.ledger.requestID(merged.ledger.records[7]) == single.ledger.requestID(single.ledger.records[7]))
            }
        }
    }

    /// A part as a shard of a run would write it, with records for exactly its slots.
    static func part(_ shard: Int, of shards: Int, seed: UInt64 = 21, schedule: String = "abc", slots: Int = 40, drop: Int = 0) -> LedgerPart {
        let records = (0..<slots).filter { $0 % shards == shard }.dropLast(drop).map { seq in
            var record = LedgerRecord.notSent(seq: UInt32(seq), session: UInt32(seq % 7), intendedUs: UInt32(seq) * 1_000, endpoint: .chat)
            record.outcome = .ok
            record.status = 200
            record.fault = seq % 5 == 0 ? 1 : 0
            record.answerDigest = 0xA5A5_0000_0000_0000 | UInt64(seq)
            record.messagesDigest = 0x5A5A_0000_0000_0000 | UInt64(seq)
            record.attempts = seq == shard ? 2 : 1
            return record
        }
        let earlier = [String(shard): [EarlierAttempt(sentUs: 10, endedUs: 30, localPort: 40_000, requestBytes: 180, responseBytes: 0)]]
        return LedgerPart(
            header: LedgerPart.Header(
                runID: "r", source: "load", seed: seed, schedule: schedule, shard: shard, shards: shards, scheduled: slots, connections: nil, startAtMs: nil,
                wallStartMs: 0, wokeAtMs: 0, clockOffsetMs: nil, elapsedSeconds: 1, records: records.count, faultStamps: ["none", "slow-\(shard)"],
                errorHeaders: [:],
                earlierAttempts: earlier),
            records: records)
    }

    @Test func mergeJoinsPartsAndReinternsTheirFaultStamps() throws {
        let merged = try PartMerge.merge([("b", Self.part(1, of: 2)), ("a", Self.part(0, of: 2))])
        #expect(merged.ledger.records.map(\.seq) == (0..<40).map(UInt32.init))
        // Slot 5 is shard 1's and slot 10 shard 0's: each keeps its own part's stamp.
        #expect(merged.ledger.faultStamp(merged.ledger.records[5]) == "slow-1" && merged.ledger.faultStamp(merged.ledger.records[10]) == "slow-0")
        // Every attempt is evidence, also across a merge.
        #expect(merged.ledger.earlierAttempts.keys.sorted() == [0, 1] && merged.ledger.earlierAttempts[1]?.first?.localPort == 40_000)
    }

    @Test(
        arguments: [
            ([("p0", part(0, of: 2))], "shard 1 of 2 missing"),
            ([("p0", part(0, of: 2)), ("p0-again", part(0, of: 2))], "p0-again: shard 0 of 2 again (already in p0)"),
            ([("p0", part(0, of: 2)), ("p1", part(1, of: 2, seed: 22))], "p1: part of another run"),
            ([("p0", part(0, of: 2)), ("p1", part(1, of: 2, schedule: "other"))], "p1: another schedule"),
            ([("p0", part(0, of: 2)), ("p1", part(1, of: 3))], "p1: shard 1 of 3"),
            ([("p0", part(0, of: 2)), ("p1", part(1, of: 2, drop: 3))], "p1: shard 1/2 holds 17 of its 20 slots"),
        ] as [([(String, LedgerPart)], String)])
    func mergeRefusesPartsThatDoNotMakeOneRun(parts: [(String, LedgerPart)], message: String) {
        let error = #expect(throws: PartMerge.Problem.self) { try PartMerge.merge(parts.map { (file: $0.0, part: $0.1) }) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func aPartCutShortIsNotRead() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("p0")
        try Self.part(0, of: 2).write(to: file)
        let whole = try LedgerPart.read(file)
        // The digests and every attempt survive the file.
        #expect(whole.records == Self.part(0, of: 2).records && whole.records[3].answerDigest == 0xA5A5_0000_0000_0006)
        #expect(whole.header.earlierAttempts == Self.part(0, of: 2).header.earlierAttempts)
        let data = try Data(contentsOf: file)
        try data.dropLast(10).write(to: file)
        let error = #expect(throws: LedgerPart.ReadError.self) { try LedgerPart.read(file) }
        #expect(error?.description.contains("\(file.path): cut short") == true, "\(String(describing: error))")
    }
}
