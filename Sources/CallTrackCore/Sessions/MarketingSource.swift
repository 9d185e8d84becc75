/// Where a visit came from: UTM tags, ad click ids, referrer, and the channel class derived from them.
public struct MarketingSource: Hashable, Sendable, Codable {
    public var utmSource: String?
    public var utmMedium: String?
    public var utmCampaign: String?
    public var utmContent: String?
    public var utmTerm: String?
    public var clickIDs: ClickIDs
    public var referrer: String?
    public var landingURL: String?
    public var channel: Channel

    public init(
        utmSource: String? = nil, utmMedium: String? = nil, utmCampaign: String? = nil,
        utmContent: String? = nil, utmTerm: String? = nil, clickIDs: ClickIDs = ClickIDs(),
        referrer: String? = nil, landingURL: String? = nil, channel: Channel? = nil
    ) {
        self.utmSource = utmSource
        self.utmMedium = utmMedium
        self.utmCampaign = utmCampaign
        self.utmContent = utmContent
        self.utmTerm = utmTerm
        self.clickIDs = clickIDs
        self.referrer = referrer
        self.landingURL = landingURL
        self.channel = .direct
        self.channel = channel ?? ChannelClassifier.classify(self)
    }

    /// A direct visit carries no marketing information; "last non-direct touch" skips these.
    public var isDirect: Bool { channel == .direct }
}

/// Ad-platform click ids: each one proves a paid click.
public struct ClickIDs: Hashable, Sendable, Codable {
    public var gclid: String?
    public var yclid: String?
    public var fbclid: String?
    public var msclkid: String?

    public init(gclid: String? = nil, yclid: String? = nil, fbclid: String? = nil, msclkid: String? = nil) {
        self.gclid = gclid
        self.yclid = yclid
        self.fbclid = fbclid
        self.msclkid = msclkid
    }

    public var isEmpty: Bool { gclid == nil && yclid == nil && fbclid == nil && msclkid == nil }
}

/// The class of traffic a visit belongs to.
public enum Channel: String, Hashable, Sendable, Codable, CaseIterable {
    case paidSearch = "paid_search"
    case paidSocial = "paid_social"
    case display
    case organicSearch = "organic_search"
    case social
    case email
    case referral
    case offline
    case direct

    public var isPaid: Bool { self == .paidSearch || self == .paidSocial || self == .display }
}
