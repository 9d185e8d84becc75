import CallTrackCore
import Testing
import TestSupport

@Suite("Flood guard")
struct FloodGuardTests {
    let t0 = Timestamp.seconds(1_700_000_000)

    @Test("one visitor gets its burst, then waits for the refill")
    func visitorBurst() {
        var guardian = FloodGuard(perIP: .init(burst: 1_000, perMinute: 1_000), perVisitor: .init(burst: 3, perMinute: 1))
        #expect((0..<3).allSatisfy { _ in guardian.admit(ip: "10.0.0.1", visitor: "v", at: t0) })
        #expect(guardian.admit(ip: "10.0.0.1", visitor: "v", at: t0) == false)
        #expect(guardian.admit(ip: "10.0.0.1", visitor: "v", at: t0 + .seconds(30)) == false)   // half a token
        #expect(guardian.admit(ip: "10.0.0.1", visitor: "v", at: t0 + .seconds(60)) == true)    // one a minute
        #expect(guardian.admit(ip: "10.0.0.1", visitor: "v", at: t0 + .seconds(60)) == false)
        #expect(guardian.admit(ip: "10.0.0.1", visitor: "other", at: t0 + .seconds(60)) == true)
    }

    @Test("one IP cannot drain the pool with fresh visitor ids; other IPs are not affected")
    func ipBurst() {
        var guardian = FloodGuard(perIP: .init(burst: 5, perMinute: 1), perVisitor: .init(burst: 10, perMinute: 5))
        #expect((0..<5).allSatisfy { guardian.admit(ip: "203.0.113.9", visitor: "v\($0)", at: t0) })
        #expect(guardian.admit(ip: "203.0.113.9", visitor: "fresh", at: t0) == false)
        #expect(guardian.admit(ip: "198.51.100.1", visitor: "fresh", at: t0) == true)
        #expect(guardian.admit(ip: nil, visitor: "no-ip", at: t0) == true)
    }

    @Test("a visitor refused for its IP keeps its own tokens")
    func ipRefusalCostsVisitorNothing() {
        var guardian = FloodGuard(perIP: .init(burst: 1, perMinute: 0), perVisitor: .init(burst: 1, perMinute: 0))
        #expect(guardian.admit(ip: "a", visitor: "first", at: t0) == true)
        #expect(guardian.admit(ip: "a", visitor: "second", at: t0) == false)
        #expect(guardian.admit(ip: "b", visitor: "second", at: t0) == true)
    }

    @Test("clients idle long enough to be full again are forgotten: memory follows active clients")
    func pruning() {
        var guardian = FloodGuard(perIP: .init(burst: 30, perMinute: 20), perVisitor: .init(burst: 10, perMinute: 5))
        for i in 0..<1_000 { _ = guardian.admit(ip: "10.0.\(i / 256).\(i % 256)", visitor: "v\(i)", at: t0) }
        #expect(guardian.trackedClients == 2_000)
        _ = guardian.admit(ip: "10.9.9.9", visitor: "late", at: t0 + .seconds(60 * 60))
        #expect(guardian.trackedClients == 2)
    }

    @Test("a client still refilling is remembered when its generation of buckets is retired")
    func rememberedAcrossGenerations() {
        // The visitor's bucket takes 6 minutes to fill: a generation lasts 361 s.
        var guardian = FloodGuard(perIP: .init(burst: 1_000, perMinute: 1_000), perVisitor: .init(burst: 3, perMinute: 0.5))
        #expect(guardian.admit(ip: nil, visitor: "early", at: t0) == true)
        let drained = t0 + .seconds(300)
        #expect((0..<3).allSatisfy { _ in guardian.admit(ip: nil, visitor: "v", at: drained) })
        // Another client starts the next generation; "v" is now in the one before.
        #expect(guardian.admit(ip: nil, visitor: "other", at: t0 + .seconds(362)) == true)
        // 100 s after draining, "v" has earned 0.83 of a token: still refused, not forgotten and full again.
        #expect(guardian.admit(ip: nil, visitor: "v", at: drained + .seconds(100)) == false)
        // Carried into the current generation, it survives the next change too.
        #expect(guardian.admit(ip: nil, visitor: "v", at: drained + .seconds(200)) == true)  // 1.67 tokens, 0.67 left
        #expect(guardian.admit(ip: nil, visitor: "other", at: t0 + .seconds(724)) == true)
        // 225 s later: 2.54 tokens, so two sessions and not the three of a new bucket.
        let later = t0 + .seconds(725)
        let first = guardian.admit(ip: nil, visitor: "v", at: later)
        let second = guardian.admit(ip: nil, visitor: "v", at: later)
        #expect(first && second)
        #expect(guardian.admit(ip: nil, visitor: "v", at: later) == false, "the bucket was kept, not made anew")
    }

    @Test("a limit that never refills does not crash the clock arithmetic")
    func neverRefills() {
        var guardian = FloodGuard(perIP: .init(burst: 1e12, perMinute: 0), perVisitor: .init(burst: 1e12, perMinute: 0))
        #expect(guardian.admit(ip: "a", visitor: "v", at: t0) == true)
        #expect(guardian.admit(ip: "a", visitor: "v", at: t0 + .seconds(3_600)) == true)
    }
}
