/// Money per campaign and per dealer over a span of days (SPEC §Leads in PostgreSQL, "money per source and dealer"):
/// what was spent, what came of it, and the return, with the credit of each call shared among its touches by an
/// attribution model. The same figures as PostgreSQL's `roi_campaign_day` and `roi_dealer_day` views summed over
/// the days.
///
/// - The calls are those started in the span (UTC days); their leads, won deals and revenue belong to the campaign
///   that brought them (a cohort: a deal won in March for a January call counts for January's spend).
/// - A campaign's cost is what the ad cabinets reported for its days in the span.
/// - A dealer's cost is its share of each campaign's spend: each day's cost of a campaign shared by the dealers in
///   proportion to the campaign's credited calls that day; a day's cost that brought no call is `unattributed`.
/// - Amounts count in one currency (the costs', else the won deals'); deals in another are counted in
///   `otherCurrencyDeals` and left out of the sums rather than added as if they were the same money.
public struct ROIReport: Sendable, Hashable {
    public enum Grouping: String, Sendable, Hashable, CaseIterable {
        case campaign, dealer
    }

    public struct Row: Sendable, Hashable {
        /// The campaign (`source / medium / campaign`) or the dealer id; `unattributed` for spend that brought no call
        /// (by dealer), `(no dealer)` for calls without one.
        public var name: String
        public var calls: Double = 0
        public var leads: Double = 0
        public var won: Double = 0
        /// Revenue of the won deals, in hundredths of `currency` (fractional: shared by the touches' credit).
        public var revenue: Double = 0
        /// Spend in hundredths of `currency`.
        public var cost: Double = 0

        public init(name: String) { self.name = name }

        /// Spend per lead, in hundredths; nil without leads.
        public var costPerLead: Double? { leads > 0 ? cost / leads : nil }
        /// Return on marketing spend: (revenue − cost) / cost; nil without spend.
        public var romi: Double? { cost > 0 ? (revenue - cost) / cost : nil }

        mutating func add(_ other: Row) {
            calls += other.calls
            leads += other.leads
            won += other.won
            revenue += other.revenue
            cost += other.cost
        }
    }

    public var from: LocalDate
    public var through: LocalDate
    public var model: AttributionModel
    public var grouping: Grouping
    public var currency: String?
    /// Most spend first, then most calls.
    public var rows: [Row]
    public var total: Row
    public var otherCurrencyDeals: Int
    public var otherCurrencyCosts: Int

    /// `leads` are the calls started in [from, through] (others are ignored), `costs` the spend of those days.
    public init(
        leads: [Lead], costs: [AdCost], from: LocalDate, through: LocalDate, model: AttributionModel, by grouping: Grouping,
        currency requested: String? = nil
    ) {
        self.from = from
        self.through = through
        self.model = model
        self.grouping = grouping
        let first = from.daysSinceEpoch, last = through.daysSinceEpoch
        let leads = leads.filter { (first...last).contains($0.startedAt.daysSinceEpoch) }
        let costs = costs.filter { (first...last).contains($0.day.daysSinceEpoch) }
        let currency = requested ?? Self.mostCommon(costs.map(\.cost.currency)) ?? Self.mostCommon(leads.compactMap { $0.wonDeal?.amount?.currency })
        self.currency = currency

        // Each call's credit per (day, campaign), and what it brought.
        struct Credited { var campaign: CampaignKey; var day: Int64; var dealer: String; var share: Double; var lead: Lead }
        var credited: [Credited] = []
        var otherDeals = 0
        for lead in leads {
            if let amount = lead.wonDeal?.amount, amount.currency != currency { otherDeals += 1 }
            for (campaign, share) in model.credits(lead) {
                credited.append(Credited(campaign: campaign, day: lead.startedAt.daysSinceEpoch, dealer: lead.dealerID ?? Self.noDealer,
                                         share: share, lead: lead))
            }
        }
        otherCurrencyDeals = otherDeals
        otherCurrencyCosts = costs.filter { $0.cost.currency != currency }.count
        func brought(_ c: Credited) -> Row {
            var row = Row(name: "")
            row.calls = c.share
            if c.lead.isLead { row.leads = c.share }
            if let won = c.lead.wonDeal {
                row.won = c.share
                if let amount = won.amount, amount.currency == currency { row.revenue = c.share * Double(amount.hundredths) }
            }
            return row
        }
        var spend: [CampaignKey: [Int64: Double]] = [:]
        for cost in costs where cost.cost.currency == currency {
            spend[cost.key, default: [:]][cost.day.daysSinceEpoch, default: 0] += Double(cost.cost.hundredths)
        }

        var byName: [String: Row] = [:]
        func add(_ name: String, _ row: Row) {
            var existing = byName[name] ?? Row(name: name)
            existing.add(row)
            byName[name] = existing
        }
        switch grouping {
        case .campaign:
            for c in credited { add(Self.name(c.campaign), brought(c)) }
            for (campaign, days) in spend {
                var row = Row(name: "")
                row.cost = days.values.reduce(0, +)
                add(Self.name(campaign), row)
            }
        case .dealer:
            for c in credited { add(c.dealer, brought(c)) }
            // Each day's spend on a campaign, shared by the dealers in proportion to the calls it brought them that day.
            var callsOn: [CampaignKey: [Int64: [String: Double]]] = [:]
            for c in credited { callsOn[c.campaign, default: [:]][c.day, default: [:]][c.dealer, default: 0] += c.share }
            for (campaign, days) in spend {
                for (day, cost) in days {
                    var row = Row(name: "")
                    guard let dealers = callsOn[campaign]?[day], case let total = dealers.values.reduce(0, +), total > 0 else {
                        row.cost = cost
                        add(Self.unattributed, row)
                        continue
                    }
                    for (dealer, calls) in dealers {
                        row.cost = cost * calls / total
                        add(dealer, row)
                    }
                }
            }
        }
        rows = byName.values.sorted { ($0.cost, $0.calls, $1.name) > ($1.cost, $1.calls, $0.name) }
        var total = Row(name: "total")
        for row in rows { total.add(row) }
        self.total = total
    }

    public static let unattributed = "unattributed"
    public static let noDealer = "(no dealer)"

    /// `google / cpc / pumps`; `(none)` for a part the touch did not have.
    public static func name(_ campaign: CampaignKey) -> String {
        [campaign.source, campaign.medium, campaign.campaign].map { $0.isEmpty ? "(none)" : $0 }.joined(separator: " / ")
    }

    static func mostCommon(_ values: [String]) -> String? {
        var counts: [String: Int] = [:]
        for value in values { counts[value, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }
}
