import AMI
import CallTrackCore
import Testing
import TestSupport

/// TCP may cut the stream anywhere: the calls must not depend on where.
@Suite("Chunk boundaries do not change the calls", .cpuBound)
struct ChunkingPropertyTests {
    static let names = FixtureAssemblyTests.withCalls

    private func events(_ pieces: [ArraySlice<UInt8>]) -> [CallEvent] {
        var pipeline = Pipeline()
        for piece in pieces { pipeline.feed(piece) }
        #expect(pipeline.malformed.isEmpty)
        return pipeline.events
    }

    @Test("one byte at a time", arguments: names.filter { !$0.contains("mixed") && !$0.contains("full-session") })
    func oneByteAtATime(name: String) throws {
        let bytes = try AMIFixtures.load(name).bytes
        let whole = events([bytes[...]])
        #expect(!whole.isEmpty)
        #expect(events(chunks(bytes) { 1 }) == whole)
    }

    @Test("random chunk sizes", arguments: names)
    func randomChunks(name: String) throws {
        let bytes = try AMIFixtures.load(name).bytes
        let whole = events([bytes[...]])
        for seed in UInt64(1)...4 {
            var random = SplitMix64(seed: seed)
            let maxChunk = [3, 64, 1500, 65_536][Int(seed - 1)]
            #expect(events(chunks(bytes) { Int.random(in: 1...maxChunk, using: &random) }) == whole, "seed \(seed)")
        }
    }

    @Test("every split point of a call into two reads")
    func everySplitPoint() throws {
        let bytes = try AMIFixtures.load("01-answered").bytes
        let whole = events([bytes[...]])
        // every boundary through the banner, login and first events; then every 13th byte
        let points = Array(1..<1500) + Array(stride(from: 1500, to: bytes.count, by: 13))
        for point in points {
            let split = events([bytes[..<point], bytes[point...]])
            if split != whole {
                Issue.record("split at byte \(point) changes the calls")
                return
            }
        }
    }
}
