/// The configured dealers, indexed at build time by listed caller, by region and for callers from
/// anywhere, so a decision looks its candidates up instead of scanning every dealer.
///
/// ```swift
/// let book = try DealerBook([moscowNorth, moscowSouth, national])
/// var wrr = RoundRobin(dealers: book.dealers.count)
/// let d = book.decide(RoutingRequest(site: "acme", caller: caller, at: now), busy: lines, roundRobin: &wrr)
/// d.dealer   // "moscow-north"
/// d.reason   // "region +7 495 → moscow-north, priority 1, weight 3/5, open, 2/4 lines busy"
/// ```
public struct DealerBook: Sendable {
    /// In configuration order; a dealer's position is its index everywhere (busy lines, round robin).
    public let dealers: [Dealer]
    let byID: [String: Int]
    /// Each list is sorted by priority, then configuration order.
    let byCaller: [PhoneNumber: [Int]]
    let byRegion: [PhoneRegion: [Int]]
    let anyRegion: [Int]
    /// Each dial target's device (`PJSIP/dealer-12`, `Local/200@dealers`) to the dealer it belongs to.
    let byDevice: [String: Int]
    let sitesServed: Set<String>
    let servesEverySite: Bool

    public struct DuplicateDealer: Error, Sendable, CustomStringConvertible {
        public let id: String
        public var description: String { "dealer '\(id)' is configured twice" }
    }

    public init(_ dealers: [Dealer]) throws(DuplicateDealer) {
        var byID: [String: Int] = [:]
        var byCaller: [PhoneNumber: [Int]] = [:]
        var byRegion: [PhoneRegion: [Int]] = [:]
        var anyRegion: [Int] = []
        var byDevice: [String: Int] = [:]
        for (index, dealer) in dealers.enumerated() {
            for target in dealer.targets where byDevice[Self.device(ofTarget: target)] == nil {
                byDevice[Self.device(ofTarget: target)] = index
            }
            guard byID.updateValue(index, forKey: dealer.id) == nil else { throw DuplicateDealer(id: dealer.id) }
            for caller in dealer.callers { byCaller[caller, default: []].append(index) }
            for region in Set(dealer.regions) { byRegion[region, default: []].append(index) }
            if dealer.regions.isEmpty { anyRegion.append(index) }
        }
        let order: (Int, Int) -> Bool = { (dealers[$0].priority, $0) < (dealers[$1].priority, $1) }
        self.dealers = dealers
        self.byID = byID
        self.byCaller = byCaller.mapValues { $0.sorted(by: order) }
        self.byRegion = byRegion.mapValues { $0.sorted(by: order) }
        self.anyRegion = anyRegion.sorted(by: order)
        self.byDevice = byDevice
        sitesServed = Set(dealers.flatMap(\.sites))
        servesEverySite = dealers.contains { $0.sites.isEmpty }
    }

    /// Whether any configured dealer (enabled or not) serves `site`: a site none serves gets no routing decision.
    public func hasDealers(for site: String) -> Bool { servesEverySite || sitesServed.contains(site) }

    /// The dealer whose dial target is the device that answered (`answeredBy` as the AMI side names it:
    /// `PJSIP/dealer-12` for the channel `PJSIP/dealer-12-0000001f`), nil for a device no dealer dials.
    public func dealer(answeredBy device: String) -> String? {
        byDevice[Self.device(ofTarget: device)].map { dealers[$0].id }
    }

    /// `PJSIP/dealer-12/sip:…` → `PJSIP/dealer-12`, `Local/200@dealers/n` → `Local/200@dealers`: the technology and
    /// resource, as Asterisk names the channel it creates.
    static func device(ofTarget target: String) -> String {
        let parts = target.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count > 2 ? parts[0] + "/" + parts[1] : target
    }

    public static let empty = try! DealerBook([])

    public func index(of id: String) -> Int? { byID[id] }
    public subscript(id: String) -> Dealer? { byID[id].map { dealers[$0] } }

    /// The dealer for a call, deterministic given its inputs: the sticky dealer if it is enabled,
    /// serves the site, is open and has a free line; else the most specific match (listed caller, area
    /// code, country, any region) that has such a dealer, its best priority, and among those the
    /// smooth weighted round robin. `busy[i]` is the lines dealer `i` has in use (missing: 0).
    /// `failover` lists up to `maxFailover` other available dealers in the same order of preference.
    public func decide(
        _ request: RoutingRequest, busy: [Int], roundRobin: inout RoundRobin, maxFailover: Int = 4
    ) -> RoutingDecision {
        var evaluation = Evaluation(book: self, request: request, busy: busy)
        var notes: [String] = []
        var chosen: (index: Int, rule: RoutingDecision.Rule, because: String)?

        if let sticky = request.stickyDealer {
            if let index = byID[sticky] {
                if let why = evaluation.unavailable(index) {
                    notes.append("sticky dealer \(sticky) \(why)")
                } else {
                    chosen = (index, .sticky, "sticky")
                }
            } else {
                notes.append("sticky dealer \(sticky) is not configured")
            }
        }

        let tiers = self.tiers(for: request.caller)
        var weightShare = ""
        if chosen == nil {
            for tier in tiers {
                let available = tier.dealers.filter { evaluation.unavailable($0) == nil }
                guard let first = available.first else {
                    if !tier.dealers.isEmpty {
                        let shown = tier.dealers.prefix(3).map { "\(dealers[$0].id) \(evaluation.unavailable($0) ?? "")" }
                        notes.append("\(tier.label): " + shown.joined(separator: ", ") + (tier.dealers.count > 3 ? ", …" : ""))
                    }
                    continue
                }
                let group = available.prefix { dealers[$0].priority == dealers[first].priority }
                let weights = group.map { dealers[$0].weight }
                let index = roundRobin.pick(Array(group), weights: weights)
                chosen = (index, tier.rule, tier.label)
                weightShare = ", weight \(dealers[index].weight)/\(weights.reduce(0, +))"
                break
            }
        }

        guard let chosen else {
            let subject = request.caller.map { "caller \($0.region)" } ?? "withheld caller"
            let why = notes.isEmpty ? "no dealer serves this caller" : notes.joined(separator: "; ")
            return RoutingDecision(
                dealer: nil, rule: .none, failover: [], targets: [], targetDealers: [],
                reason: "no dealer available for site \(request.site), \(subject): \(why); default route")
        }

        // Failover: other available dealers, the chosen tier's first, each tier by priority, then weight.
        var failover: [Int] = []
        var seen: Set<Int> = [chosen.index]
        for tier in tiers where failover.count < maxFailover {
            let ranked = tier.dealers.filter { !seen.contains($0) && evaluation.unavailable($0) == nil }
                .sorted { (dealers[$0].priority, -dealers[$0].weight, $0) < (dealers[$1].priority, -dealers[$1].weight, $1) }
            for index in ranked.prefix(maxFailover - failover.count) {
                failover.append(index)
                seen.insert(index)
            }
        }

        let dealer = dealers[chosen.index]
        var targets: [String] = []
        var targetDealers: [String] = []
        for index in [chosen.index] + failover {
            targets += dealers[index].targets
            targetDealers += Array(repeating: dealers[index].id, count: dealers[index].targets.count)
        }
        let open = evaluation.openText(chosen.index)
        var reason = "\(chosen.because) → \(dealer.id), priority \(dealer.priority)\(weightShare), \(open), \(dealer.lines(busy: evaluation.lines(chosen.index)))"
        if !notes.isEmpty { reason = notes.joined(separator: "; ") + "; " + reason }
        if !failover.isEmpty { reason += "; failover " + failover.map { dealers[$0].id }.joined(separator: ", ") }
        return RoutingDecision(
            dealer: dealer.id, rule: chosen.rule, failover: failover.map { dealers[$0].id }, targets: targets,
            targetDealers: targetDealers, reason: reason)
    }

    struct Tier {
        var rule: RoutingDecision.Rule
        var label: String
        var dealers: [Int]
    }

    /// Candidate lists from most to least specific.
    func tiers(for caller: PhoneNumber?) -> [Tier] {
        var tiers: [Tier] = []
        if let caller {
            if let listed = byCaller[caller] { tiers.append(Tier(rule: .caller, label: "caller \(caller) listed", dealers: listed)) }
            let region = caller.region
            if region.areaCode != nil, let area = byRegion[region] {
                tiers.append(Tier(rule: .area, label: "region \(region)", dealers: area))
            }
            if let country = byRegion[region.country] {
                tiers.append(Tier(rule: .country, label: "country \(region.country)", dealers: country))
            }
        }
        tiers.append(Tier(rule: .anyRegion, label: "any region", dealers: anyRegion))
        return tiers
    }

    /// Per-decision memo of each dealer's state, so a dealer in two tiers is judged once.
    struct Evaluation {
        let book: DealerBook
        let request: RoutingRequest
        let busy: [Int]
        var statuses: [Int: BusinessHours.Status] = [:]

        init(book: DealerBook, request: RoutingRequest, busy: [Int]) {
            self.book = book
            self.request = request
            self.busy = busy
        }

        func lines(_ index: Int) -> Int { index < busy.count ? busy[index] : 0 }

        mutating func status(_ index: Int) -> BusinessHours.Status {
            if let known = statuses[index] { return known }
            let status = book.dealers[index].hours.status(at: request.at)
            statuses[index] = status
            return status
        }

        /// Why dealer `index` cannot take this call, or nil if it can.
        mutating func unavailable(_ index: Int) -> String? {
            let dealer = book.dealers[index]
            if !dealer.enabled { return "disabled" }
            if !dealer.serves(site: request.site) { return "does not serve site \(request.site)" }
            if case .closed(let local, let why) = status(index) { return "closed (\(why), \(local.weekday.short) \(local.clock) \(dealer.hours.zone))" }
            if !dealer.hasRoom(busy: lines(index)) { return "full (\(dealer.lines(busy: lines(index))))" }
            return nil
        }

        mutating func openText(_ index: Int) -> String {
            guard case .open(let local) = status(index) else { return "open" }
            return "open (\(local.weekday.short) \(local.clock) \(book.dealers[index].hours.zone))"
        }
    }
}
