/// What was spent on one campaign on one day, as an ad cabinet reports it. Costs are matched to the leads' touches
/// by source, medium and campaign (compared without case: `Google` and `google` are one source).
public struct AdCost: Hashable, Sendable {
    public var day: LocalDate
    public var source: String
    public var medium: String
    public var campaign: String
    public var cost: Money

    public init(day: LocalDate, source: String, medium: String, campaign: String, cost: Money) {
        self.day = day
        self.source = source
        self.medium = medium
        self.campaign = campaign
        self.cost = cost
    }

    /// What a cost and a touch are matched by.
    public var key: CampaignKey { CampaignKey(source: source, medium: medium, campaign: campaign) }
}

/// A campaign as costs and touches name it: source, medium and campaign, lower case, absent as "".
public struct CampaignKey: Hashable, Sendable, Comparable {
    public var source: String
    public var medium: String
    public var campaign: String

    public init(source: String?, medium: String?, campaign: String?) {
        self.source = (source ?? "").lowercased()
        self.medium = (medium ?? "").lowercased()
        self.campaign = (campaign ?? "").lowercased()
    }

    public init(_ touch: Touch) { self.init(source: touch.source, medium: touch.medium, campaign: touch.campaign) }

    public static func < (lhs: CampaignKey, rhs: CampaignKey) -> Bool {
        (lhs.source, lhs.medium, lhs.campaign) < (rhs.source, rhs.medium, rhs.campaign)
    }
}
