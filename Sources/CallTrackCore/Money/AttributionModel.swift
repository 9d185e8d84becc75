/// How a lead's credit is shared among the touches of its journey: the models PostgreSQL's attribution views ship
/// (`attribution_first_touch`, …), computed the same way here for `calltrackd report roi`.
///
/// A lead without a journey (a static number, an unmatched call with its pool's default source) has one touch,
/// its first: every model gives that touch the whole credit.
public enum AttributionModel: String, Hashable, Sendable, CaseIterable {
    case firstTouch = "first_touch"
    case lastTouch = "last_touch"
    case linear
    /// 40% to the first and to the last touch, 20% shared by those between (U-shaped).
    case positionBased = "position_based"
    /// Credit halves for every 7 days a touch lies before the call.
    case timeDecay = "time_decay"

    public static let halfLife: Duration = .seconds(7 * 86_400)

    /// Each touch's share of `lead` (summing to 1), by campaign; empty when the lead has no touch at all.
    public func credits(_ lead: Lead) -> [(campaign: CampaignKey, credit: Double)] {
        let journey = lead.journey
        switch self {
        case .firstTouch: return lead.firstTouch.map { [(CampaignKey($0), 1)] } ?? []
        case .lastTouch: return lead.lastTouch.map { [(CampaignKey($0), 1)] } ?? []
        case _ where journey.isEmpty: return lead.firstTouch.map { [(CampaignKey($0), 1)] } ?? []
        case .linear:
            return journey.map { (CampaignKey($0), 1 / Double(journey.count)) }
        case .positionBased:
            let n = journey.count
            return journey.enumerated().map { index, touch in
                let credit: Double = switch n {
                case 1: 1
                case 2: 0.5
                default: index == 0 || index == n - 1 ? 0.4 : 0.2 / Double(n - 2)
                }
                return (CampaignKey(touch), credit)
            }
        case .timeDecay:
            let weights = journey.map { touch in
                Self.decay(max(0, (lead.startedAt - touch.at).secondsDouble) / Self.halfLife.secondsDouble)
            }
            let total = weights.reduce(0, +)
            guard total > 0 else { return journey.map { (CampaignKey($0), 1 / Double(journey.count)) } }
            return zip(journey, weights).map { (CampaignKey($0), $1 / total) }
        }
    }

    /// 0.5 to the power `halfLives`, without Foundation.
    static func decay(_ halfLives: Double) -> Double {
        var result = 1.0
        var whole = halfLives.rounded(.down)
        while whole > 0 && result > 0 { result *= 0.5; whole -= 1 }
        // The fraction by the series of 2^-f = e^(-f ln 2).
        let x = -(halfLives - halfLives.rounded(.down)) * 0.693_147_180_559_945_3
        var term = 1.0, sum = 1.0
        for k in 1...20 { term *= x / Double(k); sum += term }
        return result * sum
    }
}
