import AMI
import CallTrackCore
import Testing
import TestSupport

/// Every recorded transcript, decoded and assembled without a socket, against its ground truth.
@Suite("Call assembly from recorded AMI transcripts")
struct FixtureAssemblyTests {
    static let withCalls = AMIFixtures.names.filter { name in
        ((try? AMIFixtures.load(name))?.expectation.calls.isEmpty == false)
    }

    @Test("fixtures are found in the repository")
    func fixturesFound() {
        #expect(AMIFixtures.names.count >= 30, "no fixtures under \(AMIFixtures.directory.path)")
    }

    @Test("a missing transcript is one clear error naming where it was looked for")
    func missingFixture() {
        #expect {
            try AMIFixtures.load("no-such-transcript")
        } throws: { error in
            "\(error)".contains("no-such-transcript.ami") && "\(error)".contains("Tests/Fixtures/ami")
        }
    }

    @Test("calls match the ground truth", arguments: withCalls)
    func matchesGroundTruth(name: String) throws {
        let fixture = try AMIFixtures.load(name)
        var pipeline = Pipeline()
        pipeline.feed(fixture.bytes)
        #expect(pipeline.banners == ["Asterisk Call Manager/9.0.0"])
        #expect(pipeline.malformed.isEmpty)
        #expect(mismatches(pipeline.ended, fixture.expectation) == [])
        #expect(pipeline.assembler.callsInProgress == 0)
    }

    @Test("every call starts before it is answered or ends", arguments: withCalls)
    func eventOrder(name: String) throws {
        var pipeline = Pipeline()
        pipeline.feed(try AMIFixtures.load(name).bytes)
        var seen: [String: [String]] = [:]
        for event in pipeline.events {
            let kind = switch event { case .started: "started"; case .answered: "answered"; case .ended: "ended" }
            seen[event.call.id, default: []].append(kind)
        }
        for (id, kinds) in seen {
            #expect(kinds == ["started", "ended"] || kinds == ["started", "answered", "ended"], "\(id): \(kinds)")
        }
    }

    @Test("the unfiltered stream gives the same calls", arguments: withCalls)
    func unfilteredSame(name: String) throws {
        let bytes = try AMIFixtures.load(name).bytes
        var filtered = Pipeline()
        filtered.feed(bytes)
        var unfiltered = Pipeline(filtered: false)
        unfiltered.feed(bytes)
        #expect(filtered.events == unfiltered.events)
        #expect(filtered.decoder.counters.skipped > 0)
    }

    /// Single-call transcripts that record when each chunk arrived and how long the call rang and talked.
    static let timed = withCalls.filter { name in
        guard let fixture = try? AMIFixtures.load(name) else { return false }
        return fixture.timing != nil && fixture.expectation.calls.count == 1
            && fixture.expectation.approxRingSeconds != nil && fixture.expectation.approxTalkSeconds != nil
    }

    @Test("timed transcripts are found")
    func timedFound() { #expect(Self.timed.count >= 8) }

    @Test("ring and talk seconds follow the arrival times of the recorded chunks", arguments: timed)
    func timings(name: String) throws {
        let fixture = try AMIFixtures.load(name)
        let timing = try #require(fixture.timing)
        let ring = try #require(fixture.expectation.approxRingSeconds)
        let talk = try #require(fixture.expectation.approxTalkSeconds)
        let connectedAt = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var pipeline = Pipeline()
        for chunk in timing {
            pipeline.feed(fixture.bytes[chunk.offset..<chunk.offset + chunk.length], at: connectedAt + .microseconds(Int64(chunk.seconds * 1_000_000)))
        }
        let call = try #require(pipeline.ended.first)
        if call.trackingNumber != nil, name.contains("timestampevents") {
            #expect(call.ringStartedAt.secondsSinceEpoch > 1_795_000_000, "Timestamp: headers are used when present")
        }
        #expect(abs((call.ringSeconds ?? -1) - ring) <= 1, "ring \(call.ringSeconds ?? -1) s, expected about \(ring) s")
        #expect(abs((call.talkSeconds ?? 0) - talk) <= 1, "talk \(call.talkSeconds ?? -1) s, expected about \(talk) s")
    }
}
