import CallTrackCore
import Testing
import TestSupport

/// The allocator's queues: releases that arrive out of time order (they wait beside the FIFO of
/// releases) and deadlines at any distance and any microsecond (the timing wheel).
@Suite("Allocator queues")
struct AllocatorQueueTests {
    let n = (0..<4).map(AllocatorScenario.number)
    let clock = ManualClock()
    static let policy = PoolPolicy(idleTTL: .seconds(20 * 60), maxAge: .seconds(3600), cooldown: .seconds(15 * 60))

    @Test("rule 3 after an undo: the number put back is again the one released longest ago")
    func undoneNumberGoesFirst() throws {
        var a = PoolAllocator(poolID: "p", numbers: Array(n.prefix(3)), policy: Self.policy)
        _ = a.allocate(session: "s0", visitor: "v0", at: clock.now())  // n0
        clock.advance(by: .seconds(1))
        _ = a.allocate(session: "s1", visitor: "v1", at: clock.now())  // n1, released a second after n0
        clock.advance(by: .seconds(20 * 60 + 15 * 60))                  // both ended and cooled
        #expect(a.allocate(session: "s2", visitor: "v2", at: clock.now()).lease?.number == n[2])  // never leased
        let taken = a.allocate(session: "s3", visitor: "v3", at: clock.now())
        #expect(taken.lease?.number == n[0])
        // The undone n0 returns behind n1's later release: it must still come first.
        a.undo(taken)
        #expect(a.allocate(session: "s4", visitor: "v4", at: clock.now()).lease?.number == n[0])
        #expect(a.allocate(session: "s5", visitor: "v5", at: clock.now()).lease?.number == n[1])
    }

    @Test("rule 3 with a number added to a running pool: never released, it comes before any released one")
    func addedNumberGoesBeforeReleasedOnes() {
        var a = PoolAllocator(poolID: "p", numbers: Array(n.prefix(2)), policy: Self.policy)
        _ = a.allocate(session: "s0", visitor: "v0", at: clock.now())  // n0
        clock.advance(by: .seconds(20 * 60 + 15 * 60))
        _ = a.expire(upTo: clock.now())                                 // n0 released (and cooled) before n2 joins
        a.add(n[2])
        let order = (1...3).map { a.allocate(session: "s\($0)", visitor: "v\($0)", at: clock.now()).lease?.number }
        // n1 and n2 were never released (the epoch), n1 joined first; n0 was released last.
        #expect(order == [n[1], n[2], n[0]])
    }

    @Test("rule 3 after a restart: the restored release times order the pool, then new releases join behind")
    func restoredOrderThenNewReleases() {
        let start = clock.now()
        var a = PoolAllocator(poolID: "p", numbers: Array(n.prefix(4)), policy: PoolPolicy(cooldown: .zero))
        // Released at 30 s, 10 s, 20 s and 40 s: the store's order, not the pool's.
        let releases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)] = [
            n[0]: (start + .seconds(30), "a"), n[1]: (start + .seconds(10), "b"),
            n[2]: (start + .seconds(20), "c"), n[3]: (start + .seconds(40), "d"),
        ]
        a.restore(liveLeases: [], lastReleases: releases)
        clock.advance(by: .seconds(60))
        let s0 = a.allocate(session: "s0", visitor: "x0", at: clock.now())
        #expect(s0.lease?.number == n[1])
        a.release(session: "s0", at: clock.now())  // n1 released now: last in line
        let order = (1...4).map { a.allocate(session: "s\($0)", visitor: "x\($0)", at: clock.now()).lease?.number }
        #expect(order == [n[2], n[0], n[3], n[1]])
    }

    @Test("expiry is exact to the microsecond inside a second of the wheel")
    func expiryToTheMicrosecond() throws {
        var a = PoolAllocator(poolID: "p", numbers: Array(n.prefix(2)), policy: Self.policy)
        clock.advance(by: .microseconds(400_123))
        let lease = try #require(a.allocate(session: "s", visitor: "v", at: clock.now()).lease)
        #expect(a.expire(upTo: lease.expiresAt - .microseconds(1)).isEmpty)
        #expect(a.liveLeaseCount == 1)
        #expect(a.expire(upTo: lease.expiresAt).map(\.sessionID) == ["s"])
    }

    @Test("deadlines beyond the wheel's span (an idle TTL of days) end exactly, touched or not")
    func deadlinesBeyondTheWheel() throws {
        let policy = PoolPolicy(idleTTL: .seconds(3 * 86_400), maxAge: .seconds(5 * 86_400), cooldown: .seconds(60))
        var a = PoolAllocator(poolID: "p", numbers: Array(n.prefix(3)), policy: policy)
        _ = a.expire(upTo: clock.now())  // the wheel takes its position
        let quiet = try #require(a.allocate(session: "quiet", visitor: "v1", at: clock.now()).lease)
        _ = a.allocate(session: "busy", visitor: "v2", at: clock.now())
        clock.advance(by: .seconds(86_400) + .microseconds(7))
        let ping = a.touch(session: "busy", at: clock.now())
        let touched = try #require(ping)
        #expect(a.expire(upTo: quiet.expiresAt - .microseconds(1)).isEmpty)
        #expect(a.expire(upTo: quiet.expiresAt).map(\.sessionID) == ["quiet"])
        #expect(a.expire(upTo: touched.expiresAt - .microseconds(1)).isEmpty)
        #expect(a.expire(upTo: touched.expiresAt).map(\.sessionID) == ["busy"])
    }

    @Test("a clock that jumps days ahead ends every lease, in deadline order")
    func jumpAcrossTheWholeWheel() {
        var a = PoolAllocator(poolID: "p", numbers: Array(n.prefix(4)), policy: Self.policy)
        for i in 0..<4 {
            _ = a.allocate(session: "s\(i)", visitor: "v\(i)", at: clock.now())
            clock.advance(by: .seconds(7 * 60))  // the earlier leases are touched by nothing: ends at start + 20 min
        }
        let ended = a.expire(upTo: clock.now() + .seconds(3 * 86_400))
        #expect(ended.map(\.sessionID) == ["s1", "s2", "s3"])  // s0 ended on its own during the allocations
        #expect(a.liveLeaseCount == 0)
    }
}
