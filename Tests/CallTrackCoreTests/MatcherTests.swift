import CallTrackCore
import Testing
import TestSupport

@Suite("Call matcher (SPEC §Matching a call)")
struct MatcherTests {
    static let number = try! PhoneNumber.e164("+74950000001")
    static let caller = try! PhoneNumber.e164("+79161234567")
    static let t = Timestamp.seconds(1_800_000_000)

    static func lease(_ session: String, visitor: String? = nil, from start: Int64, to end: Int64, active: Int64? = nil) -> Lease {
        Lease(poolID: "p", number: number, sessionID: session, visitorID: visitor ?? "v-\(session)",
              startedAt: t + .seconds(start), lastActivityAt: t + .seconds(active ?? start), expiresAt: t + .seconds(end))
    }

    static func query(_ leases: [Lease], owner: CallerVisitor? = nil, cooldown: Int64 = 900) -> MatchQuery {
        MatchQuery(trackingNumber: number, caller: caller, at: t, leases: leases, cooldown: .seconds(cooldown), callerVisitor: owner)
    }

    @Test("static number: its fixed source, confidence 1")
    func staticNumber() {
        var query = Self.query([Self.lease("a", from: -60, to: 600)])
        query.staticNumber = StaticNumber(number: Self.number, source: MarketingSource(utmSource: "billboard", channel: .offline))
        let match = CallMatcher.match(query)
        #expect(match.kind == .static)
        #expect(match.confidence == 1)
        #expect(match.staticSource?.utmSource == "billboard")
    }

    @Test("one live lease: exact, confidence 1, the lease in the audit trail")
    func exact() {
        let match = CallMatcher.match(Self.query([Self.lease("a", from: -60, to: 600), Self.lease("old", from: -9000, to: -5000)]))
        #expect(match.kind == .exact)
        #expect(match.sessionID == "a")
        #expect(match.confidence == 1)
        #expect(match.candidates.map(\.sessionID) == ["a"])
    }

    @Test("several live leases: shared, the most recently active, confidence 1/n")
    func sharedMostRecent() {
        let leases = [Self.lease("a", from: -600, to: 600, active: -300), Self.lease("b", from: -500, to: 600, active: -10),
                      Self.lease("c", from: -400, to: 600, active: -200)]
        let match = CallMatcher.match(Self.query(leases))
        #expect(match.kind == .shared)
        #expect(match.sessionID == "b")
        #expect(match.candidateCount == 3)
        #expect(abs(match.confidence - 1.0 / 3) < 1e-9)
        #expect(match.candidates.filter { $0.rejectedBecause == nil }.map(\.sessionID) == ["b"])
    }

    @Test("several live leases: the caller's own visitor wins over a more recent one")
    func sharedPrefersCallerVisitor() {
        let leases = [Self.lease("a", visitor: "known", from: -600, to: 600, active: -300), Self.lease("b", from: -500, to: 600, active: -10)]
        let owner = CallerVisitor(visitorID: "known", heldNumberBefore: true, onSiteNow: true, latestSession: "a")
        let match = CallMatcher.match(Self.query(leases, owner: owner))
        #expect(match.kind == .shared)
        #expect(match.sessionID == "a")
        #expect(match.rule.contains("caller's own visitor"))
    }

    @Test("recycled number: a caller who held the number before and is not on the site gets the call, the holder is rejected")
    func recycledNumberGuard() {
        let owner = CallerVisitor(visitorID: "wrote-it-down", heldNumberBefore: true, onSiteNow: false, latestSession: "last-week")
        let match = CallMatcher.match(Self.query([Self.lease("stranger", from: -60, to: 600)], owner: owner))
        #expect(match.kind == .repeat)
        #expect(match.visitorID == "wrote-it-down")
        #expect(match.sessionID == "last-week")
        #expect(match.candidates.first?.sessionID == "stranger")
        #expect(match.candidates.first?.rejectedBecause?.contains("recycled") == true)
    }

    @Test("recycled-number guard does not apply when that visitor is on the site now, or never held the number")
    func guardExceptions() {
        let onSite = CallerVisitor(visitorID: "v", heldNumberBefore: true, onSiteNow: true, latestSession: "s")
        #expect(CallMatcher.match(Self.query([Self.lease("holder", from: -60, to: 600)], owner: onSite)).kind == .exact)
        let neverHeld = CallerVisitor(visitorID: "v", heldNumberBefore: false, onSiteNow: false, latestSession: "s")
        #expect(CallMatcher.match(Self.query([Self.lease("holder", from: -60, to: 600)], owner: neverHeld)).kind == .exact)
    }

    @Test("no live lease, one ended within the cooldown: late, and confidence falls as the gap grows")
    func late() {
        let soon = CallMatcher.match(Self.query([Self.lease("a", from: -3000, to: -30)]))
        let later = CallMatcher.match(Self.query([Self.lease("a", from: -3000, to: -800)]))
        #expect(soon.kind == .late)
        #expect(soon.sessionID == "a")
        #expect(later.kind == .late)
        #expect(soon.confidence > later.confidence)
        #expect(later.confidence >= CallMatcher.lateFloor)
        let tooLate = CallMatcher.match(Self.query([Self.lease("a", from: -3000, to: -901)]))
        #expect(tooLate.kind == .unmatched)
    }

    @Test("no lease: a caller bound to a visitor is a repeat weeks later; an unknown caller is unmatched")
    func repeatAndUnmatched() {
        let owner = CallerVisitor(visitorID: "v", heldNumberBefore: false, onSiteNow: false, latestSession: "s-old")
        let repeated = CallMatcher.match(Self.query([], owner: owner))
        #expect(repeated.kind == .repeat)
        #expect(repeated.sessionID == "s-old")
        let unknown = CallMatcher.match(Self.query([]))
        #expect(unknown.kind == .unmatched)
        #expect(unknown.sessionID == nil)
        #expect(unknown.confidence == 0)
    }

    @Test("random lease histories: the chosen session held the number in the window; confidence in [0, 1]; exact iff one live lease")
    func properties() {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<3000 {
            let count = Int.random(in: 0...6, using: &rng)
            let leases = (0..<count).map { index -> Lease in
                let start = Int64.random(in: -7200...0, using: &rng)
                let end = start + Int64.random(in: 1...5400, using: &rng)
                return Self.lease("s\(index)", visitor: "v\(Int.random(in: 0...3, using: &rng))", from: start, to: end,
                                  active: Int64.random(in: start...min(end, 0), using: &rng))
            }
            let owner: CallerVisitor? = Bool.random(using: &rng) ? nil : CallerVisitor(
                visitorID: "v\(Int.random(in: 0...5, using: &rng))", heldNumberBefore: Bool.random(using: &rng),
                onSiteNow: Bool.random(using: &rng), latestSession: "latest")
            let query = Self.query(leases, owner: owner)
            let match = CallMatcher.match(query)
            #expect((0...1).contains(match.confidence))
            let live = leases.filter { $0.isLive(at: Self.t) }
            if let session = match.sessionID, match.kind != .repeat {
                let lease = leases.first { $0.sessionID == session }!
                #expect(lease.isLive(at: Self.t) || (Self.t - lease.end) <= query.cooldown)
            }
            let guarded = owner.map { o in o.heldNumberBefore && !o.onSiteNow && !live.contains { $0.visitorID == o.visitorID } } ?? false
            if !guarded { #expect((match.kind == .exact) == (live.count == 1)) }
            if live.count > 1 && !guarded { #expect(match.kind == .shared && match.candidateCount == live.count) }
        }
    }
}
