import CallTrackCore
import Testing
import TestSupport

/// Random dealers, callers, times and line counts; each property checked against a plain reading of
/// the rules (`Reference`), not against the router's own code.
@Suite("Routing decisions: properties", .cpuBound)
struct RoutingPropertyTests {
    static let seeds: [UInt64] = [1, 7, 42, 2026, 0xC0FFEE]

    /// A random world: up to 12 dealers over a few regions and two sites, random hours, capacity, state.
    struct World {
        var dealers: [Dealer]
        var book: DealerBook

        static let regions = ["+7 495", "+7 812", "+7", "+1 212", "+44"].map(region)
        static let callers = ["+74951234567", "+78121234567", "+79161234567", "+12125550123", "+442079460000", "+375171234567"].map(number)
        static let zones = [Zones.moscow, Zones.newYork, ZoneOffsets.utc]

        init(_ rng: inout SeededRandom) {
            let count = Int.random(in: 1...12, using: &rng)
            dealers = (0..<count).map { index in
                let regions = rng.chance(0.2) ? [] : (0..<Int.random(in: 1...2, using: &rng)).map { _ in rng.pick(Self.regions) }
                let hours: BusinessHours
                if rng.chance(0.3) {
                    hours = .always()
                } else {
                    let start = Int.random(in: 0...20, using: &rng) * 60
                    let range = BusinessHours.Range(start: start, end: min(1440, start + Int.random(in: 1...12, using: &rng) * 60))
                    var weekly: [Weekday: [BusinessHours.Range]] = [:]
                    for day in Weekday.allCases where rng.chance(0.7) { weekly[day] = [range] }
                    hours = BusinessHours(zone: rng.pick(Self.zones), weekly: weekly,
                                          holidays: rng.chance(0.3) ? [LocalDate(year: 2026, month: 12, day: Int.random(in: 1...31, using: &rng))] : [])
                }
                return Dealer(
                    id: "d\(index)", regions: regions, sites: rng.chance(0.3) ? [rng.pick(["acme", "globex"])] : [],
                    callers: rng.chance(0.1) ? [rng.pick(Self.callers)] : [], priority: Int.random(in: 1...3, using: &rng),
                    weight: Int.random(in: 1...5, using: &rng), capacity: rng.chance(0.5) ? Int.random(in: 1...3, using: &rng) : nil,
                    hours: hours, targets: ["PJSIP/d\(index)"], enabled: rng.chance(0.85))
            }
            book = try! DealerBook(dealers)
        }

        func request(_ rng: inout SeededRandom, sticky: Bool = false) -> RoutingRequest {
            RoutingRequest(
                site: rng.pick(["acme", "globex"]), caller: rng.chance(0.1) ? nil : rng.pick(Self.callers),
                at: RoutingTime.utc(2026, 12, Int.random(in: 1...31, using: &rng), Int.random(in: 0...23, using: &rng), Int.random(in: 0...59, using: &rng)),
                stickyDealer: sticky && !dealers.isEmpty ? rng.pick(dealers).id : nil)
        }

        func busy(_ rng: inout SeededRandom) -> [Int] { dealers.map { _ in Int.random(in: 0...3, using: &rng) } }
    }

    /// The rules as SPEC states them, read over all dealers without indexes.
    enum Reference {
        static func available(_ d: Dealer, _ r: RoutingRequest, _ busy: Int) -> Bool {
            d.enabled && d.serves(site: r.site) && d.hours.status(at: r.at).isOpen && d.hasRoom(busy: busy)
        }

        /// 4 listed caller, 3 area code, 2 country, 1 any region, 0 no match.
        static func specificity(_ d: Dealer, _ caller: PhoneNumber?) -> Int {
            guard let caller else { return d.regions.isEmpty ? 1 : 0 }
            if d.callers.contains(caller) { return 4 }
            if caller.region.areaCode != nil, d.regions.contains(caller.region) { return 3 }
            if d.regions.contains(caller.region.country) { return 2 }
            return d.regions.isEmpty ? 1 : 0
        }
    }

    @Test("the chosen dealer is enabled, serves the site, is open and has a free line; nobody is chosen only when no such dealer matches", arguments: seeds)
    func onlyAvailableDealers(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<300 {
            let world = World(&rng)
            var wrr = RoundRobin(dealers: world.dealers.count)
            for _ in 0..<20 {
                let request = world.request(&rng)
                let busy = world.busy(&rng)
                let decision = world.book.decide(request, busy: busy, roundRobin: &wrr)
                let eligible = world.dealers.indices.filter {
                    Reference.available(world.dealers[$0], request, busy[$0]) && Reference.specificity(world.dealers[$0], request.caller) > 0
                }
                guard let chosen = decision.dealer.flatMap(world.book.index(of:)) else {
                    #expect(eligible.isEmpty, "seed \(seed): nobody chosen though \(eligible.map { world.dealers[$0].id }) could take it: \(decision.reason)")
                    continue
                }
                #expect(eligible.contains(chosen), "seed \(seed): \(decision.reason)")
                // The most specific match, then the best priority within it.
                let best = eligible.map { Reference.specificity(world.dealers[$0], request.caller) }.max()!
                #expect(Reference.specificity(world.dealers[chosen], request.caller) == best, "seed \(seed): \(decision.reason)")
                let top = eligible.filter { Reference.specificity(world.dealers[$0], request.caller) == best }.map { world.dealers[$0].priority }.min()!
                #expect(world.dealers[chosen].priority == top, "seed \(seed): \(decision.reason)")
                for id in decision.failover {
                    let index = world.book.index(of: id)!
                    #expect(eligible.contains(index) && index != chosen, "seed \(seed): failover \(id) cannot take the call")
                }
            }
        }
    }

    @Test("over a long run each dealer of a group gets exactly its weight's share of every full cycle", arguments: seeds)
    func weightsConverge(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<50 {
            let weights = (0..<Int.random(in: 2...6, using: &rng)).map { _ in Int.random(in: 1...10, using: &rng) }
            let book = try DealerBook(weights.enumerated().map { Dealer(id: "d\($0.offset)", weight: $0.element, targets: ["PJSIP/d"]) })
            var wrr = RoundRobin(dealers: weights.count)
            let total = weights.reduce(0, +)
            var counts = Array(repeating: 0, count: weights.count)
            var cyclesOff = 0
            var worstDrift = 0
            for round in 1...(60 * total) {
                let decision = book.decide(RoutingRequest(site: "acme", caller: nil, at: .epoch), busy: [], roundRobin: &wrr)
                counts[book.index(of: decision.dealer!)!] += 1
                if round % total == 0, counts != weights.map({ $0 * round / total }) { cyclesOff += 1 }
                // Smooth: how far any dealer runs ahead of or behind its share, in picks × total weight.
                for (index, weight) in weights.enumerated() { worstDrift = max(worstDrift, abs(counts[index] * total - weight * round)) }
            }
            #expect(cyclesOff == 0, "seed \(seed): weights \(weights) missed their exact share in \(cyclesOff) cycles")
            #expect(worstDrift <= total * weights.count, "seed \(seed): weights \(weights) drifted \(worstDrift)")
        }
    }

    @Test("the sticky dealer wins when it is enabled, serves the site, is open and not full, and loses otherwise", arguments: seeds)
    func stickyDealer(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<300 {
            let world = World(&rng)
            var wrr = RoundRobin(dealers: world.dealers.count)
            for _ in 0..<20 {
                let request = world.request(&rng, sticky: true)
                let busy = world.busy(&rng)
                let sticky = world.book.index(of: request.stickyDealer!)!
                let decision = world.book.decide(request, busy: busy, roundRobin: &wrr)
                if Reference.available(world.dealers[sticky], request, busy[sticky]) {
                    #expect(decision.dealer == request.stickyDealer && decision.rule == .sticky, "seed \(seed): \(decision.reason)")
                } else {
                    #expect(decision.dealer != request.stickyDealer, "seed \(seed): \(decision.reason)")
                    #expect(decision.reason.contains("sticky dealer \(request.stickyDealer!) "), "seed \(seed): \(decision.reason)")
                }
            }
        }
    }

    @Test("busy lines never pass a dealer's capacity when every decision holds a line", arguments: seeds)
    func capacityHeld(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<100 {
            let world = World(&rng)
            var wrr = RoundRobin(dealers: world.dealers.count)
            var busy = Array(repeating: 0, count: world.dealers.count)
            for _ in 0..<100 {
                if let decision = world.book.decide(world.request(&rng), busy: busy, roundRobin: &wrr).dealer {
                    busy[world.book.index(of: decision)!] += 1
                }
                if rng.chance(0.2), let line = busy.indices.filter({ busy[$0] > 0 }).randomElement(using: &rng) { busy[line] -= 1 }
                for (index, dealer) in world.dealers.enumerated() {
                    #expect(busy[index] <= dealer.capacity ?? .max, "seed \(seed): \(dealer.id) holds \(busy[index])")
                }
            }
        }
    }

    @Test("the same seed gives the same decisions, reasons included", arguments: seeds)
    func deterministic(seed: UInt64) {
        func run() -> [RoutingDecision] {
            var rng = SeededRandom(seed: seed)
            var decisions: [RoutingDecision] = []
            for _ in 0..<50 {
                let world = World(&rng)
                var wrr = RoundRobin(dealers: world.dealers.count)
                for _ in 0..<20 { decisions.append(world.book.decide(world.request(&rng, sticky: rng.chance(0.5)), busy: world.busy(&rng), roundRobin: &wrr)) }
            }
            return decisions
        }
        #expect(run() == run())
    }
}
