import CallTrackCore
import Testing

@Suite("Routing decisions: examples")
struct RoutingDecisionTests {
    /// Tue 2026-12-08 10:00 Moscow.
    let tuesdayMorning = RoutingTime.utc(2026, 12, 8, 7, 0)
    let moscowCaller = number("+74951234567")

    func book() throws -> DealerBook {
        try DealerBook([
            Dealer(id: "moscow-north", regions: [region("+7 495"), region("+7 499")], priority: 1, weight: 3, capacity: 4,
                   hours: .officeHours(Zones.moscow), targets: ["PJSIP/dealer-12", "PJSIP/dealer-12b"]),
            Dealer(id: "moscow-south", regions: [region("+7 495")], priority: 1, weight: 2, capacity: 2,
                   hours: .officeHours(Zones.moscow), targets: ["PJSIP/dealer-13"]),
            Dealer(id: "moscow-reserve", regions: [region("+7 495")], priority: 2, hours: .officeHours(Zones.moscow),
                   targets: ["Local/300@dealers"]),
            Dealer(id: "russia", regions: [region("+7")], weight: 1, targets: ["PJSIP/federal"]),
            Dealer(id: "anywhere", targets: ["Local/100@dealers"]),
        ])
    }

    @Test("the reason says which rule chose the dealer, its priority, weight share, hours and lines")
    func reasonText() throws {
        let book = try book()
        var wrr = RoundRobin(dealers: book.dealers.count)
        let decision = book.decide(RoutingRequest(site: "acme", caller: moscowCaller, at: tuesdayMorning), busy: [2, 0], roundRobin: &wrr)
        #expect(decision.dealer == "moscow-north")
        #expect(decision.rule == .area)
        #expect(decision.reason == "region +7 495 → moscow-north, priority 1, weight 3/5, open (Tue 10:00 Europe/Moscow), 2/4 lines busy; failover moscow-south, moscow-reserve, russia, anywhere")
        #expect(decision.failover == ["moscow-south", "moscow-reserve", "russia", "anywhere"])
        #expect(decision.targets == ["PJSIP/dealer-12", "PJSIP/dealer-12b", "PJSIP/dealer-13", "Local/300@dealers", "PJSIP/federal", "Local/100@dealers"])
        #expect(decision.targetDealers == ["moscow-north", "moscow-north", "moscow-south", "moscow-reserve", "russia", "anywhere"])
    }

    @Test("weights 3 and 2 alternate smoothly: north, south, north, south, north, then again")
    func smoothRoundRobin() throws {
        let book = try book()
        var wrr = RoundRobin(dealers: book.dealers.count)
        let picks = (0..<10).map { _ in
            book.decide(RoutingRequest(site: "acme", caller: moscowCaller, at: tuesdayMorning), busy: [], roundRobin: &wrr).dealer!
        }
        #expect(picks == ["moscow-north", "moscow-south", "moscow-north", "moscow-south", "moscow-north",
                          "moscow-north", "moscow-south", "moscow-north", "moscow-south", "moscow-north"])
    }

    @Test("a full dealer gives way to its peer, then to the next priority, then to the country, then to anywhere")
    func capacityAndPriority() throws {
        let book = try book()
        var wrr = RoundRobin(dealers: book.dealers.count)
        let request = RoutingRequest(site: "acme", caller: moscowCaller, at: tuesdayMorning)
        #expect(book.decide(request, busy: [4, 0], roundRobin: &wrr).dealer == "moscow-south")
        let reserve = book.decide(request, busy: [4, 2], roundRobin: &wrr)
        #expect(reserve.dealer == "moscow-reserve")
        #expect(reserve.reason.hasPrefix("region +7 495 → moscow-reserve, priority 2, weight 1/1"))
        // Saturday: all Moscow dealers closed; the national dealer (no hours: always open) takes it.
        let saturday = book.decide(RoutingRequest(site: "acme", caller: moscowCaller, at: RoutingTime.utc(2026, 12, 12, 9, 0)),
                                   busy: [], roundRobin: &wrr)
        #expect(saturday.dealer == "russia")
        #expect(saturday.rule == .country)
        #expect(saturday.reason.hasPrefix("region +7 495: moscow-north closed (closed on Sat, Sat 12:00 Europe/Moscow), moscow-south closed"))
        // A London caller matches no region: anywhere.
        let london = book.decide(RoutingRequest(site: "acme", caller: number("+442079460000"), at: tuesdayMorning), busy: [], roundRobin: &wrr)
        #expect(london.dealer == "anywhere")
        #expect(london.rule == .anyRegion)
        #expect(london.failover.isEmpty)
    }

    @Test("nobody available: no dealer, the reason lists why, the site's default route applies")
    func nobody() throws {
        let book = try DealerBook([
            Dealer(id: "north", regions: [region("+7 495")], hours: .officeHours(Zones.moscow), targets: ["PJSIP/n"]),
            Dealer(id: "off", regions: [region("+7 495")], targets: ["PJSIP/o"], enabled: false),
        ])
        var wrr = RoundRobin(dealers: 2)
        let night = RoutingTime.utc(2026, 12, 8, 20, 0)
        let decision = book.decide(RoutingRequest(site: "acme", caller: moscowCaller, at: night), busy: [], roundRobin: &wrr)
        #expect(decision.dealer == nil)
        #expect(decision.rule == .none)
        #expect(decision.targets.isEmpty)
        #expect(decision.reason == "no dealer available for site acme, caller +7 495: region +7 495: north closed (outside hours, Tue 23:00 Europe/Moscow), off disabled; default route")
    }

    @Test("a listed caller goes to their dealer before any region; a dealer for other sites is skipped")
    func listedCallersAndSites() throws {
        let vip = number("+74957654321")
        let book = try DealerBook([
            Dealer(id: "north", regions: [region("+7 495")], targets: ["PJSIP/n"]),
            Dealer(id: "key-accounts", sites: ["acme"], callers: [vip], targets: ["PJSIP/k"]),
            Dealer(id: "other-site", regions: [region("+7 495")], sites: ["globex"], priority: 1, weight: 100, targets: ["PJSIP/g"]),
        ])
        var wrr = RoundRobin(dealers: 3)
        let listed = book.decide(RoutingRequest(site: "acme", caller: vip, at: tuesdayMorning), busy: [], roundRobin: &wrr)
        #expect(listed.dealer == "key-accounts")
        #expect(listed.reason.hasPrefix("caller +74957654321 listed → key-accounts"))
        for _ in 0..<5 {
            #expect(book.decide(RoutingRequest(site: "acme", caller: moscowCaller, at: tuesdayMorning), busy: [], roundRobin: &wrr).dealer == "north")
        }
        #expect(book.decide(RoutingRequest(site: "globex", caller: vip, at: tuesdayMorning), busy: [], roundRobin: &wrr).dealer == "other-site")
    }

    @Test("the sticky dealer wins while open with a free line; the reason says why it lost otherwise")
    func sticky() throws {
        let book = try book()
        var wrr = RoundRobin(dealers: book.dealers.count)
        let request = RoutingRequest(site: "acme", caller: moscowCaller, at: tuesdayMorning, stickyDealer: "moscow-south")
        let kept = book.decide(request, busy: [0, 1], roundRobin: &wrr)
        #expect(kept.dealer == "moscow-south")
        #expect(kept.reason.hasPrefix("sticky → moscow-south, priority 1, open (Tue 10:00 Europe/Moscow), 1/2 lines busy; failover moscow-north"))
        let full = book.decide(request, busy: [0, 2], roundRobin: &wrr)
        #expect(full.dealer == "moscow-north")
        #expect(full.reason.hasPrefix("sticky dealer moscow-south full (2/2 lines busy); region +7 495 → moscow-north"))
        let gone = book.decide(RoutingRequest(site: "acme", caller: moscowCaller, at: tuesdayMorning, stickyDealer: "retired"),
                               busy: [], roundRobin: &wrr)
        #expect(gone.reason.hasPrefix("sticky dealer retired is not configured; region +7 495 →"))
    }

    @Test("a withheld caller goes to the dealers for any region only")
    func withheld() throws {
        let book = try book()
        var wrr = RoundRobin(dealers: book.dealers.count)
        let decision = book.decide(RoutingRequest(site: "acme", caller: nil, at: tuesdayMorning), busy: [], roundRobin: &wrr)
        #expect(decision.dealer == "anywhere")
    }

    @Test("two dealers with one id are refused")
    func duplicate() {
        #expect(throws: DealerBook.DuplicateDealer.self) {
            try DealerBook([Dealer(id: "a", targets: ["PJSIP/a"]), Dealer(id: "a", targets: ["PJSIP/b"])])
        }
    }
}
