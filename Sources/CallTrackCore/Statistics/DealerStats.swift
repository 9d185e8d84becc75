/// One dealer's figures over a period, from its hour buckets and its unanswered calls: what a manufacturer's
/// sales director compares dealers by, and the weight routing could give the dealer from its answer rate.
///
/// ```
/// dealer        offered answered missed busy abandoned answer% p50 p90 talk  leads junk not-called-back weight→
/// moscow-north       40       34      4    1         1     85%  6s 14s 3h02m    30    4               2 3 → 9
/// ```
public struct DealerStats: Hashable, Sendable {
    public var dealer: DealerID
    public var offered = 0
    public var answered = 0
    public var missed = 0
    public var abandoned = 0
    public var busy = 0
    public var talkSeconds = 0
    public var leads = 0
    public var junk = 0
    /// Seconds to answer: median and 90th percentile of the answered calls (nil with none answered).
    public var answerSecondsP50: Int?
    public var answerSecondsP90: Int?
    /// Unanswered calls the dealer did not call back within the window.
    public var missedNotCalledBack = 0
    /// Unanswered calls called back within the window.
    public var calledBack = 0
    /// Unanswered calls whose window is still open.
    public var awaitingCallback = 0
    /// answered ÷ offered; nil with nothing offered.
    public var answerRate: Double?
    /// The configured weight (nil for a dealer no longer configured) and whether it is `auto`.
    public var weight: Int?
    public var weightIsAuto = false
    /// Leads the CRM reported won (`DealerConversion`), and won ÷ leads once the dealer has `minimumLeads` leads
    /// and the CRM reports outcomes at all (nil otherwise).
    public var won = 0
    public var conversion: Double?
    /// The weight its answer rate, and its conversion where the CRM reports outcomes, suggest (`suggestedWeight`);
    /// nil with fewer than `minimumOffered` calls.
    public var suggestedWeight: Int?

    public init(dealer: DealerID) { self.dealer = dealer }

    /// Calls offered before the answer rate suggests a weight: fewer say little about a dealer.
    public static let minimumOffered = 10
    /// The weight a perfect answer rate suggests; every dealer gets at least 1.
    public static let maximumSuggestedWeight = 10

    /// Leads before a conversion is judged: fewer say little about a dealer.
    public static let minimumLeads = 10

    /// The weight for an answer rate: proportional to it, 1…10, so dealers who answer get more calls. With a
    /// `conversion` and the dealers' `averageConversion`, it is scaled by how the dealer converts against the
    /// average (half to twice: one lucky month does not take every call): a dealer who answers and sells gets more.
    public static func suggestedWeight(answered: Int, offered: Int, conversion: Double? = nil, averageConversion: Double? = nil) -> Int? {
        guard offered >= minimumOffered else { return nil }
        let rate = Double(answered) / Double(offered)
        var factor = 1.0
        if let conversion, let averageConversion, averageConversion > 0 { factor = min(2, max(0.5, conversion / averageConversion)) }
        return max(1, min(maximumSuggestedWeight, Int((rate * factor * Double(maximumSuggestedWeight)).rounded())))
    }

    /// Sums `hours` per dealer, judges each missed call against the callback `window` at `now`, and adds the
    /// configured weights; dealers in `configured` appear even without calls, in configuration order, then others
    /// by id.
    public static func summarize(
        hours: [DealerHour], missed: [MissedCall], callbackWindow window: Duration, at now: Timestamp, configured: [Dealer] = [],
        conversions: [DealerID: DealerConversion] = [:]
    ) -> [DealerStats] {
        var byDealer: [DealerID: DealerStats] = [:]
        var answerSeconds: [DealerID: [Int]] = [:]
        for hour in hours {
            var stats = byDealer[hour.dealer] ?? DealerStats(dealer: hour.dealer)
            stats.offered += hour.offered
            stats.answered += hour.answered
            stats.missed += hour.missed
            stats.abandoned += hour.abandoned
            stats.busy += hour.busy
            stats.talkSeconds += hour.talkSeconds
            stats.leads += hour.leads
            stats.junk += hour.junk
            byDealer[hour.dealer] = stats
            answerSeconds[hour.dealer, default: []] += hour.answerSeconds
        }
        for call in missed {
            var stats = byDealer[call.dealer] ?? DealerStats(dealer: call.dealer)
            switch call.status(window: window, at: now) {
            case .calledBack: stats.calledBack += 1
            case .waiting: stats.awaitingCallback += 1
            case .notCalledBack: stats.missedNotCalledBack += 1
            }
            byDealer[call.dealer] = stats
        }
        for dealer in configured where byDealer[dealer.id] == nil { byDealer[dealer.id] = DealerStats(dealer: dealer.id) }
        // Conversion counts only where the CRM reports outcomes, for dealers with enough leads to judge.
        let judged = conversions.filter { $0.value.leads >= minimumLeads }
        let reporting = conversions.values.contains { $0.reported > 0 }
        let averageConversion: Double? = reporting && !judged.isEmpty
            ? Double(judged.values.map(\.won).reduce(0, +)) / Double(judged.values.map(\.leads).reduce(0, +)) : nil
        let order = Dictionary(configured.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let weights = Dictionary(configured.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return byDealer.values.map { stats in
            var stats = stats
            let seconds = (answerSeconds[stats.dealer] ?? []).sorted()
            stats.answerSecondsP50 = percentile(seconds, 0.5)
            stats.answerSecondsP90 = percentile(seconds, 0.9)
            stats.answerRate = stats.offered > 0 ? Double(stats.answered) / Double(stats.offered) : nil
            let conversion = conversions[stats.dealer]
            stats.won = conversion?.won ?? 0
            if reporting, let conversion, conversion.leads >= minimumLeads { stats.conversion = Double(conversion.won) / Double(conversion.leads) }
            stats.suggestedWeight = suggestedWeight(answered: stats.answered, offered: stats.offered, conversion: stats.conversion,
                                                    averageConversion: averageConversion)
            stats.weight = weights[stats.dealer]?.weight
            stats.weightIsAuto = weights[stats.dealer]?.autoWeight ?? false
            return stats
        }.sorted { (order[$0.dealer] ?? Int.max, $0.dealer) < (order[$1.dealer] ?? Int.max, $1.dealer) }
    }

    /// The nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Int], _ p: Double) -> Int? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
