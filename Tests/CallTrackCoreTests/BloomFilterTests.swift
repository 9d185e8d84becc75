import CallTrackCore
import Testing

@Suite("Bloom filter of visitors")
struct BloomFilterTests {
    @Test("never forgets an inserted visitor, and rules out almost every other one")
    func noFalseNegativesFewFalsePositives() {
        var filter = BloomFilter()
        let inserted = (0..<200_000).map { "v_seen_\($0)" }
        for visitor in inserted { filter.insert(visitor) }
        #expect(inserted.allSatisfy(filter.mightContain))
        let strangers = (0..<200_000).map { "v_new_\($0)" }
        let falsePositives = strangers.filter(filter.mightContain).count
        // 3 hashes over 2^24 bits with 200k entries: about 0.004% in theory; 0.1% leaves room for a bad seed.
        #expect(falsePositives < 200, "false positives: \(falsePositives) of \(strangers.count)")
        #expect(filter.count == 200_000)
    }

    @Test("a tiny filter fills up: more false positives, still no false negatives")
    func fullFilterStaysCorrect() {
        var filter = BloomFilter(bits: 64, hashes: 2)
        let inserted = (0..<500).map { "v\($0)" }
        for visitor in inserted { filter.insert(visitor) }
        #expect(inserted.allSatisfy(filter.mightContain))
        #expect(filter.mightContain("someone else"))  // 64 bits, all set: nothing can be ruled out
        #expect(!BloomFilter(bits: 64, hashes: 2).mightContain("v1"))
    }
}
