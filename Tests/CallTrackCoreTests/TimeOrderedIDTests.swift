import CallTrackCore
import Testing
import TestSupport

/// New visitor and session ids sort by creation time, so the store appends them to its indexes.
@Suite("Time-ordered ids")
struct TimeOrderedIDTests {
    @Test("shape: prefix, 9 time digits, 12 random digits, all in the alphabet the API accepts")
    func shape() {
        var random = SeededRandom(seed: 7)
        let id = TimeOrderedID.make(prefix: "s", at: Timestamp(microsecondsSinceEpoch: 1_796_000_000_123_456), using: &random)
        #expect(id.utf8.count == 2 + 9 + 12)
        #expect(id.hasPrefix("s_"))
        #expect(id.utf8.dropFirst(2).allSatisfy { (48...57).contains($0) || (97...122).contains($0) })
        #expect(TimeOrderedID.time(of: id, prefix: "s") == Timestamp(microsecondsSinceEpoch: 1_796_000_000_123_000))
        #expect(TimeOrderedID.time(of: id, prefix: "v") == nil)
        #expect(TimeOrderedID.time(of: "s_0123456789abcdefghijk", prefix: "s") != nil)
        #expect(TimeOrderedID.time(of: "s_0123456789abcdefghij", prefix: "s") == nil, "one digit short")
        #expect(TimeOrderedID.time(of: "s_0123456789ABCDEFGHIJK", prefix: "s") == nil, "upper case is not ours")
    }

    @Test("byte order is time order: 2,000 ids at random times from 1970 to 5000")
    func sortsByTime() {
        var random = SeededRandom(seed: 11)
        let latest: Int64 = 95_617_584_000_000_000  // 5000-01-01 in µs
        let made = (0..<2_000).map { _ -> (time: Timestamp, id: String) in
            let time = Timestamp(microsecondsSinceEpoch: Int64.random(in: 0...latest, using: &random) / 1_000 * 1_000)
            return (time, TimeOrderedID.make(prefix: "v", at: time, using: &random))
        }
        for (a, b) in zip(made, made.dropFirst()) where a.time != b.time {
            #expect((a.id < b.id) == (a.time < b.time), "\(a.id) at \(a.time) vs \(b.id) at \(b.time)")
        }
        for entry in made { #expect(TimeOrderedID.time(of: entry.id, prefix: "v") == entry.time) }
    }

    @Test("ids of the same millisecond differ; a clock before 1970 gives the smallest time, not a broken id")
    func sameMillisecondAndBadClock() {
        var random = SeededRandom(seed: 3)
        let now = Timestamp(microsecondsSinceEpoch: 1_796_000_000_000_000)
        let ids = Set((0..<10_000).map { _ in TimeOrderedID.make(prefix: "s", at: now, using: &random) })
        #expect(ids.count == 10_000)
        let early = TimeOrderedID.make(prefix: "s", at: Timestamp(microsecondsSinceEpoch: -5_000_000), using: &random)
        #expect(early.hasPrefix("s_000000000"))
        #expect(early.utf8.count == 23)
    }
}
