import CallTrackCore
import Testing
import TestSupport

/// The site-level rules of SPEC §Allocation 5–6 on top of the pool: bots, floods, segments,
/// interaction, Do-Not-Track, exhaustion, and the admin changes.
@Suite("Lease book")
struct LeaseBookTests {
    static let numbers = (0..<3).map(AllocatorScenario.number)
    static let defaultNumber = AllocatorScenario.number(9_000)
    static let staticNumber = AllocatorScenario.number(9_001)
    static let browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
    let t0 = Timestamp.seconds(1_700_000_000)

    static func site(
        pool policy: PoolPolicy = PoolPolicy(), numbers: [PhoneNumber] = numbers, dnt: Bool = false, unsegmented: PhoneNumber? = nil
    ) -> Site {
        Site(
            id: "acme", defaultNumber: defaultNumber, respectDoNotTrack: dnt,
            pools: [Pool(id: "paid", numbers: numbers, policy: policy)], unsegmentedNumber: unsegmented)
    }

    static func request(_ session: SessionID, visitor: VisitorID? = nil, ip: String? = "10.0.0.1", userAgent: String? = browser) -> AllocationRequest {
        AllocationRequest(siteID: "acme", sessionID: session, visitorID: visitor ?? "v-" + session, userAgent: userAgent, clientIP: ip)
    }

    @Test("a person's visit gets a pool number, shown in the site's mask; the next page of the same session keeps it")
    func poolNumber() async throws {
        let book = LeaseBook(sites: [Self.site()])
        let first = try book.assign(Self.request("s1"), at: t0)
        #expect(first.kind == .pool && first.number == Self.numbers[0] && first.isNewLease)
        #expect(first.lease?.sessionID == "s1" && first.poolID == "paid")
        let again = try book.assign(Self.request("s1"), at: t0 + .seconds(30))
        #expect(again.number == first.number && !again.isNewLease)
        #expect(again.lease?.expiresAt == t0 + .seconds(30) + .seconds(20 * 60))
    }

    @Test("bots and scripts get the default number and leave the pool untouched", arguments: [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", nil,
    ])
    func bots(userAgent: String?) async throws {
        let book = LeaseBook(sites: [Self.site()])
        let answer = try book.assign(Self.request("s1", userAgent: userAgent), at: t0)
        #expect(answer.kind == .fallback && answer.reason == .bot && answer.number == Self.defaultNumber)
        #expect(answer.lease == nil)
        #expect(await book.liveLeases(pool: "paid").isEmpty)
    }

    @Test("curl is served a pool number (the README demo)")
    func curl() async throws {
        let book = LeaseBook(sites: [Self.site()])
        #expect(try await book.assign(Self.request("s1", userAgent: "curl/8.5.0"), at: t0).kind == .pool)
    }

    @Test("one IP asking for many sessions is limited: the flood gets the default number, the pool keeps numbers")
    func flood() async throws {
        let guardian = FloodGuard(perIP: .init(burst: 2, perMinute: 1), perVisitor: .init(burst: 10, perMinute: 5))
        let book = LeaseBook(sites: [Self.site()], flood: guardian)
        #expect(try await book.assign(Self.request("s1"), at: t0).kind == .pool)
        #expect(try await book.assign(Self.request("s2"), at: t0).kind == .pool)
        let third = try book.assign(Self.request("s3"), at: t0)
        #expect(third.kind == .fallback && third.reason == .rateLimited)
        #expect(try await book.assign(Self.request("s4", ip: "10.0.0.2"), at: t0).kind == .pool)
        // The limited client's existing sessions still get their numbers (a touch costs no token).
        #expect(try await book.assign(Self.request("s1"), at: t0 + .seconds(1)).number == Self.numbers[0])
    }

    @Test("Do-Not-Track is honoured when the site says so")
    func doNotTrack() async throws {
        var request = Self.request("s1")
        request.doNotTrack = true
        #expect(try await LeaseBook(sites: [Self.site(dnt: true)]).assign(request, at: t0).reason == .doNotTrack)
        #expect(try await LeaseBook(sites: [Self.site(dnt: false)]).assign(request, at: t0).kind == .pool)
    }

    @Test("traffic outside the pool's segment sees the unsegmented static number, or the default")
    func segment() async throws {
        let paidOnly = PoolPolicy(segment: .paid)
        var organic = Self.request("s1")
        organic.source = MarketingSource(referrer: "https://www.google.com/")
        let withStatic = try LeaseBook(sites: [Self.site(pool: paidOnly, unsegmented: Self.staticNumber)]).assign(organic, at: t0)
        #expect(withStatic.kind == .static && withStatic.number == Self.staticNumber && withStatic.reason == .segment)
        let withoutStatic = try LeaseBook(sites: [Self.site(pool: paidOnly)]).assign(organic, at: t0)
        #expect(withoutStatic.kind == .fallback && withoutStatic.reason == .segment)
        var paid = Self.request("s2")
        paid.source = MarketingSource(clickIDs: ClickIDs(gclid: "abc"))
        #expect(try await LeaseBook(sites: [Self.site(pool: paidOnly)]).assign(paid, at: t0).kind == .pool)
    }

    @Test("a pool that leases on interaction keeps the default number until the visitor interacts")
    func interaction() async throws {
        let book = LeaseBook(sites: [Self.site(pool: PoolPolicy(leaseOn: .interaction(visibleSeconds: 10)))])
        var request = Self.request("s1")
        request.interacted = false
        #expect(try await book.assign(request, at: t0).reason == .interactionRequired)
        request.interacted = true
        #expect(try await book.assign(request, at: t0 + .seconds(3)).kind == .pool)
    }

    @Test("an exhausted fallback pool serves the default number and says which pool ran out")
    func exhausted() async throws {
        let book = LeaseBook(sites: [Self.site(numbers: [Self.numbers[0]])])
        _ = try book.assign(Self.request("s1"), at: t0)
        let answer = try book.assign(Self.request("s2"), at: t0)
        #expect(answer.kind == .fallback && answer.reason == .exhausted && answer.poolID == "paid")
        #expect(answer.outcome == .exhausted)
    }

    @Test("a returning visitor's previous number comes back")
    func sticky() async throws {
        let book = LeaseBook(sites: [Self.site()])
        var request = Self.request("s2", visitor: "v")
        request.previousNumber = Self.numbers[2]
        #expect(try await book.assign(request, at: t0).number == Self.numbers[2])
    }

    @Test("an unknown site is an error that names it")
    func unknownSite() async {
        let book = LeaseBook(sites: [Self.site()])
        var unknown = Self.request("s1")
        unknown.siteID = "nope"
        let request = unknown
        await #expect(throws: LeaseBook.Failure.unknownSite("nope")) { try await book.assign(request, at: self.t0) }
        await #expect(throws: LeaseBook.Failure.unknownSite("nope")) { try await book.touch(siteID: "nope", session: "s1", at: self.t0) }
    }

    @Test("undo of an unstored assignment frees the number with no cooldown")
    func undo() async throws {
        let book = LeaseBook(sites: [Self.site(numbers: [Self.numbers[0]])])
        let answer = try book.assign(Self.request("s1"), at: t0)
        book.undo(answer)
        #expect(try await book.assign(Self.request("s2"), at: t0).number == Self.numbers[0])
    }

    @Test("pings keep the lease; without them it ends at the idle TTL and the pool shows it")
    func keepalive() async throws {
        let book = LeaseBook(sites: [Self.site()])
        _ = try book.assign(Self.request("s1"), at: t0)
        #expect(try await book.touch(siteID: "acme", session: "s1", at: t0 + .seconds(19 * 60)) != nil)
        #expect(await book.snapshot(at: t0 + .seconds(38 * 60)).first?.live == 1)
        let ended = book.expire(upTo: t0 + .seconds(39 * 60))
        #expect(ended.map(\.sessionID) == ["s1"])
        #expect(try await book.touch(siteID: "acme", session: "s1", at: t0 + .seconds(39 * 60)) == nil)
        let snapshot = book.snapshot(at: t0 + .seconds(39 * 60))
        #expect(snapshot.map { [$0.siteID, $0.poolID] } == [["acme", "paid"]])
        #expect(snapshot.map { [$0.size, $0.live, $0.free] } == [[3, 0, 2]])
    }

    @Test("admin: add, retire, change policy, and refuse a number that belongs to another pool")
    func admin() async throws {
        let other = Site(id: "other", defaultNumber: Self.staticNumber, pools: [Pool(id: "o", numbers: [AllocatorScenario.number(50)])])
        let book = LeaseBook(sites: [Self.site(numbers: [Self.numbers[0]]), other])
        try book.add(Self.numbers[1], toPool: "paid")
        #expect(await book.pool(of: Self.numbers[1]) == "paid")
        #expect(book.site("acme")?.pools.first?.numbers == [Self.numbers[0], Self.numbers[1]])
        await #expect(throws: LeaseBook.Failure.numberInAnotherPool(AllocatorScenario.number(50), pool: "o")) {
            try await book.add(AllocatorScenario.number(50), toPool: "paid")
        }
        await #expect(throws: LeaseBook.Failure.unknownPool("nope")) { try await book.add(Self.numbers[2], toPool: "nope") }
        try book.retire(Self.numbers[0], fromPool: "paid")
        #expect(try await book.assign(Self.request("s1"), at: t0).number == Self.numbers[1])
        #expect(try await book.assign(Self.request("s2"), at: t0).reason == .exhausted)
        try book.update(policy: PoolPolicy(idleTTL: .seconds(60), onExhaustion: .share), ofPool: "paid")
        #expect(book.site("acme")?.pools.first?.policy.idleTTL == .seconds(60))
        #expect(try await book.assign(Self.request("s3"), at: t0).outcome.map { if case .shared = $0 { true } else { false } } == true)
        // A retired number may join another pool.
        try book.add(Self.numbers[0], toPool: "o")
        #expect(await book.pool(of: Self.numbers[0]) == "o")
    }

    @Test("upsert of a site retires the numbers it dropped and refuses another pool's numbers")
    func upsert() async throws {
        let book = LeaseBook(sites: [Self.site()])
        try book.upsert(Self.site(numbers: [Self.numbers[1]]))
        #expect(try await book.assign(Self.request("s1"), at: t0).number == Self.numbers[1])
        #expect(try await book.assign(Self.request("s2"), at: t0).reason == .exhausted)
        let thief = Site(id: "thief", defaultNumber: Self.staticNumber, pools: [Pool(id: "t", numbers: [Self.numbers[1]])])
        await #expect(throws: LeaseBook.Failure.numberInAnotherPool(Self.numbers[1], pool: "paid")) { try await book.upsert(thief) }
        // The dropped number is free for another site.
        let heir = Site(id: "heir", defaultNumber: Self.staticNumber, pools: [Pool(id: "h", numbers: [Self.numbers[0]])])
        try book.upsert(heir)
        #expect(await book.pool(of: Self.numbers[0]) == "h")
    }

    @Test("restore brings back live leases: the session keeps its number after a restart")
    func restore() async throws {
        let before = LeaseBook(sites: [Self.site()])
        _ = try before.assign(Self.request("s1"), at: t0)
        let after = LeaseBook(sites: [Self.site()])
        after.restore(pool: "paid", liveLeases: before.liveLeases(pool: "paid"), lastReleases: [:])
        let answer = try after.assign(Self.request("s1"), at: t0 + .seconds(5))
        #expect(answer.number == Self.numbers[0] && !answer.isNewLease)
        #expect(try await after.assign(Self.request("s2"), at: t0 + .seconds(5)).number == Self.numbers[1])
    }
}
