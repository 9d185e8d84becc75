import CallTrackCore
import Testing
import TestSupport

/// One test per rule of SPEC §Allocation 1–4 and §Keepalive, on a manual clock.
@Suite("Allocator rules")
struct AllocatorExampleTests {
    let n = (0..<4).map(AllocatorScenario.number)
    let clock = ManualClock()
    static let policy = PoolPolicy(idleTTL: .seconds(20 * 60), maxAge: .seconds(3600), cooldown: .seconds(15 * 60))

    func pool(_ size: Int, _ policy: PoolPolicy = Self.policy) -> PoolAllocator {
        PoolAllocator(poolID: "p", numbers: Array(n.prefix(size)), policy: policy)
    }

    @Test("rule 1: a session with a live lease gets the same number back, and the lease is touched")
    func sameSessionSameNumber() throws {
        var a = pool(3)
        let first = try #require(a.allocate(session: "s1", visitor: "v1", at: clock.now()).lease)
        clock.advance(by: .seconds(600))
        let again = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        guard case .existing(let lease) = again else { Issue.record("expected .existing, got \(again)"); return }
        #expect(lease.number == first.number)
        #expect(lease.expiresAt == clock.now() + .seconds(20 * 60))
        #expect(a.liveLeaseCount == 1)
    }

    @Test("rule 2: a returning visitor gets its previous number when it is free")
    func stickiness() throws {
        var a = pool(3)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())  // takes n0, the oldest free
        clock.advance(by: .seconds(20 * 60 + 15 * 60))                  // expired and cooled
        let back = a.allocate(session: "s2", visitor: "v1", previousNumber: n[0], at: clock.now())
        #expect(back == .leased(try #require(back.lease), sticky: true))
        #expect(back.lease?.number == n[0])
        // n0 was released most recently; without stickiness LRU would have chosen n1.
    }

    @Test("rule 2: within the cooldown the number goes back only to the visitor who released it")
    func stickyDuringCooldown() {
        var a = pool(2)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        a.release(session: "s1", at: clock.now())
        clock.advance(by: .seconds(60))
        #expect(a.allocate(session: "x", visitor: "other", previousNumber: n[0], at: clock.now()).lease?.number == n[1])
        #expect(a.allocate(session: "s2", visitor: "v1", previousNumber: n[0], at: clock.now()).lease?.number == n[0])
    }

    @Test("rule 2: the previous number held by someone else is not taken from them")
    func stickyNumberBusy() {
        var a = pool(2)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        let outcome = a.allocate(session: "s2", visitor: "v2", previousNumber: n[0], at: clock.now())
        #expect(outcome.lease?.number == n[1])
        if case .leased(_, let sticky) = outcome { #expect(!sticky) } else { Issue.record("expected a lease, got \(outcome)") }
    }

    @Test("rule 3: the free number released longest ago goes first")
    func leastRecentlyReleased() {
        var a = pool(3, PoolPolicy(cooldown: .zero))
        for (i, s) in ["a", "b", "c"].enumerated() {
            _ = a.allocate(session: s, visitor: s, at: clock.now())
            #expect(a.lease(of: s)?.number == n[i])
        }
        for s in ["b", "c", "a"] {
            clock.advance(by: .seconds(1))
            a.release(session: s, at: clock.now())
        }
        clock.advance(by: .seconds(1))
        #expect(a.allocate(session: "d", visitor: "d", at: clock.now()).lease?.number == n[1])
        #expect(a.allocate(session: "e", visitor: "e", at: clock.now()).lease?.number == n[2])
        #expect(a.allocate(session: "f", visitor: "f", at: clock.now()).lease?.number == n[0])
    }

    @Test("rule 4: fallback policy — no free number means the default number, and nothing is shared")
    func exhaustedFallback() {
        var a = pool(1)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        #expect(a.allocate(session: "s2", visitor: "v2", at: clock.now()) == .exhausted)
        #expect(a.liveLeaseCount == 1)
    }

    @Test("rule 4: share policy — the lease idle longest is shared, and both sessions hold the number")
    func exhaustedShare() throws {
        var a = pool(2, PoolPolicy(onExhaustion: .share))
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        clock.advance(by: .seconds(10))
        _ = a.allocate(session: "s2", visitor: "v2", at: clock.now())
        clock.advance(by: .seconds(10))
        a.touch(session: "s1", at: clock.now())  // s2 is now the idlest
        let outcome = a.allocate(session: "s3", visitor: "v3", at: clock.now())
        let lease = try #require(outcome.lease)
        #expect(outcome == .shared(lease, with: "s2"))
        #expect(lease.number == n[1] && lease.shared)
        #expect(a.liveLeases.filter { $0.number == n[1] }.count == 2)
    }

    @Test("cooldown: a released number is not given to another visitor until the cooldown has passed")
    func cooldown() {
        var a = pool(1)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        clock.advance(by: .seconds(20 * 60))  // idle TTL: the lease ends now
        #expect(a.allocate(session: "s2", visitor: "v2", at: clock.now()) == .exhausted)
        clock.advance(by: .seconds(15 * 60) - .microseconds(1))
        #expect(a.allocate(session: "s3", visitor: "v3", at: clock.now()) == .exhausted)
        clock.advance(by: .microseconds(1))
        #expect(a.allocate(session: "s4", visitor: "v4", at: clock.now()).lease?.number == n[0])
    }

    @Test("keepalive: a lease ends at last activity + idle TTL, pings move that, max age caps it")
    func idleTTLAndMaxAge() {
        var a = pool(1)
        let start = clock.now()
        _ = a.allocate(session: "s1", visitor: "v1", at: start)
        clock.advance(by: .seconds(20 * 60) - .microseconds(1))
        #expect(a.touch(session: "s1", at: clock.now())?.expiresAt == clock.now() + .seconds(20 * 60))
        // Keep pinging every 10 minutes: the hard maximum (1 h) still ends it.
        while clock.now() < start + .seconds(3600) - .seconds(600) {
            clock.advance(by: .seconds(600))
            #expect(a.touch(session: "s1", at: clock.now()) != nil)
        }
        #expect(a.lease(of: "s1")?.expiresAt == start + .seconds(3600))
        let ended = a.expire(upTo: start + .seconds(3600))
        #expect(ended.map(\.sessionID) == ["s1"])
        #expect(a.touch(session: "s1", at: start + .seconds(3600)) == nil)
    }

    @Test("keepalive: a lease released after its deadline ended at the deadline, and cools from there")
    func lateReleaseEndsAtDeadline() {
        var a = pool(1, PoolPolicy(idleTTL: .seconds(60), cooldown: .seconds(60)))
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        a.release(session: "s1", at: clock.now() + .seconds(100))  // the lease had ended at +60 s
        #expect(a.allocate(session: "s2", visitor: "v2", at: clock.now() + .seconds(120)).lease?.number == n[0])
    }

    @Test("undo: an allocation nobody saw leaves no trace — no cooldown, same number next")
    func undo() {
        var a = pool(2)
        let outcome = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        a.undo(outcome)
        #expect(a.liveLeaseCount == 0)
        #expect(a.freeCount(at: clock.now()) == 2)
        #expect(a.allocate(session: "s2", visitor: "v2", at: clock.now()).lease?.number == outcome.lease?.number)
    }

    @Test("retire: a retired number is not handed out, its live lease runs to its end; adding it back restores it")
    func retireAndAdd() {
        var a = pool(2, PoolPolicy(onExhaustion: .share))
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        a.retire(n[0])
        #expect(a.lease(of: "s1")?.number == n[0])
        #expect(a.size == 1 && a.numbers == [n[1]])
        _ = a.allocate(session: "s2", visitor: "v2", at: clock.now())
        // Exhausted: share never picks the retired number's lease.
        #expect(a.allocate(session: "s3", visitor: "v3", at: clock.now()).lease?.number == n[1])
        a.add(n[0])
        clock.advance(by: .seconds(1))
        a.touch(session: "s2", at: clock.now())
        a.touch(session: "s3", at: clock.now())
        // Back in the pool, s1's lease (idle longest) is the one to share again.
        let outcome = a.allocate(session: "s4", visitor: "v4", at: clock.now())
        #expect(outcome.lease?.number == n[0])
        guard case .shared(_, let holder) = outcome else { Issue.record("expected .shared, got \(outcome)"); return }
        #expect(holder == "s1")
    }

    @Test("policy change: live leases follow the new idle TTL")
    func policyChange() {
        var a = pool(1)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        a.update(policy: PoolPolicy(idleTTL: .seconds(60)))
        #expect(a.lease(of: "s1")?.expiresAt == clock.now() + .seconds(60))
        #expect(a.expire(upTo: clock.now() + .seconds(60)).count == 1)
    }

    @Test("after a shared number is released, the visitor whose lease ended last may have it back in the cooldown")
    func sharedReleaseVisitor() {
        var a = pool(1, PoolPolicy(onExhaustion: .share))
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())
        _ = a.allocate(session: "s2", visitor: "v2", at: clock.now())  // shares n0
        a.release(session: "s2", at: clock.now() + .seconds(10))
        a.release(session: "s1", at: clock.now() + .seconds(20))    // v1 ended last
        let t = clock.now() + .seconds(30)
        #expect(a.allocate(session: "x2", visitor: "v2", previousNumber: n[0], at: t) == .exhausted)
        #expect(a.allocate(session: "x1", visitor: "v1", previousNumber: n[0], at: t).lease?.number == n[0])
    }

    @Test("restore: live leases and cooldowns survive a restart")
    func restore() {
        var a = pool(3)
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())     // n0, live
        _ = a.allocate(session: "s2", visitor: "v2", at: clock.now())     // n1
        a.release(session: "s2", at: clock.now())                          // n1 cooling
        var b = pool(3)
        b.restore(liveLeases: a.liveLeases, lastReleases: [n[1]: (clock.now(), "v2"), n[0]: (clock.now() + .seconds(1200), "v1")])
        #expect(b.lease(of: "s1") == a.lease(of: "s1"))
        #expect(b.allocate(session: "s3", visitor: "v3", at: clock.now()).lease?.number == n[2])
        #expect(b.allocate(session: "s4", visitor: "v4", at: clock.now()) == .exhausted)
        #expect(b.allocate(session: "s5", visitor: "v2", previousNumber: n[1], at: clock.now()).lease?.number == n[1])
    }
}
