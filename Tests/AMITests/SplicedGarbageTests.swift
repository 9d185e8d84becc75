import AMI
import CallTrackCore
import Testing
import TestSupport

/// Bad bytes between two messages cost nothing but themselves: the real transcripts with stray
/// lines and garbage spliced between their messages give the same calls, at any chunking.
@Suite("Garbage between messages", .cpuBound)
struct SplicedGarbageTests {
    struct Splice: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var testDescription: String { name }
    }

    static let splices: [Splice] = [
        Splice(name: "a line without a colon", bytes: Array("this line has no colon\r\n".utf8)),
        Splice(name: "a line without a colon and a blank line", bytes: Array("this line has no colon\r\n\r\n".utf8)),
        Splice(name: "binary garbage and a line end", bytes: [0x00, 0xFF, 0xFE, 0x89, 0x50, 0x4E, 0x47, 0x1B, 0x5B, 0x32, 0x4A, 0x9B, 0x0D, 0x0A]),
        Splice(name: "a line with a colon that begins no message", bytes: Array("\u{1}x\u{7F}: nothing to see\r\n".utf8)),
        Splice(name: "garbage with no line end, running into the next message", bytes: [0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x3A]),
        Splice(name: "a second banner", bytes: Array("Asterisk Call Manager/9.0.0\r\n".utf8)),
    ]

    /// The transcript with `splice` after every message but the last; returns how many went in.
    static func spliced(_ bytes: [UInt8], with splice: [UInt8]) -> (bytes: [UInt8], inserted: Int) {
        let end: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        var inserted = 0
        var index = 0
        while index < bytes.count {
            out.append(bytes[index])
            index += 1
            if index >= 4, index < bytes.count, Array(bytes[(index - 4)..<index]) == end {
                out += splice
                inserted += 1
            }
        }
        return (out, inserted)
    }

    @Test("every transcript with garbage after every message: the ground-truth calls, one refusal per splice, one banner",
          arguments: FixtureAssemblyTests.withCalls, splices)
    func groundTruth(name: String, splice: Splice) throws {
        let fixture = try AMIFixtures.load(name)
        let (bytes, inserted) = Self.spliced(fixture.bytes, with: splice.bytes)
        #expect(inserted > 10)
        var random = SplitMix64(seed: UInt64(bytes.count))
        var pipeline = Pipeline()
        for piece in chunks(bytes, sizes: { Int.random(in: 1...700, using: &random) }) { pipeline.feed(piece) }
        #expect(pipeline.banners == ["Asterisk Call Manager/9.0.0"], "a banner is only the first line of a connection")
        #expect(pipeline.malformed.count == inserted, "each splice is refused once, and nothing else is")
        #expect(mismatches(pipeline.ended, fixture.expectation) == [])
        #expect(pipeline.assembler.callsInProgress == 0)

        var clean = Pipeline()
        clean.feed(fixture.bytes)
        #expect(pipeline.events == clean.events, "the same call events as without the garbage")
    }

    @Test("a call after garbage, cut into two reads at every point of the first 1,500 bytes and every 41st byte after",
          arguments: splices)
    func everySplitPoint(splice: Splice) throws {
        let original = try AMIFixtures.load("01-answered").bytes
        let (bytes, inserted) = Self.spliced(original, with: splice.bytes)
        var clean = Pipeline()
        clean.feed(original)
        let points = Array(1..<1500) + Array(stride(from: 1500, to: bytes.count, by: 41))
        for point in points {
            var pipeline = Pipeline()
            pipeline.feed(bytes[..<point])
            pipeline.feed(bytes[point...])
            if pipeline.events != clean.events || pipeline.malformed.count != inserted || pipeline.banners.count != 1 {
                Issue.record("split at byte \(point): \(pipeline.ended.count) calls ended, \(pipeline.malformed.count) refusals of \(inserted)")
                return
            }
        }
    }
}
