/// A session as a lead's journey shows it: when the visit began and where it came from.
///
/// Its JSON is the shape the PostgreSQL attribution views read, one object per touch:
/// `{"at":1800000000.5,"campaign":"pumps","channel":"paid_search","medium":"cpc","session_id":"s1","source":"google"}`
/// (`at` in epoch seconds; absent values are left out; a static number's touch has `session_id` "").
public struct Touch: Hashable, Sendable, Codable {
    /// The visit; nil for a static number's fixed source, which has no session.
    public var sessionID: SessionID?
    public var at: Timestamp
    public var channel: Channel
    public var source: String?
    public var medium: String?
    public var campaign: String?
    public var content: String?
    public var term: String?
    public var referrer: String?
    public var landingURL: String?
    public var gclid: String?
    public var yclid: String?

    public init(
        sessionID: SessionID?, at: Timestamp, channel: Channel, source: String? = nil, medium: String? = nil,
        campaign: String? = nil, content: String? = nil, term: String? = nil, referrer: String? = nil,
        landingURL: String? = nil, gclid: String? = nil, yclid: String? = nil
    ) {
        self.sessionID = sessionID
        self.at = at
        self.channel = channel
        self.source = source
        self.medium = medium
        self.campaign = campaign
        self.content = content
        self.term = term
        self.referrer = referrer
        self.landingURL = landingURL
        self.gclid = gclid
        self.yclid = yclid
    }

    public init(_ session: SessionRecord) {
        let s = session.source
        self.init(sessionID: session.id, at: session.startedAt, channel: s.channel, source: s.utmSource, medium: s.utmMedium,
                  campaign: s.utmCampaign, content: s.utmContent, term: s.utmTerm, referrer: s.referrer,
                  landingURL: s.landingURL, gclid: s.clickIDs.gclid, yclid: s.clickIDs.yclid)
    }

    /// A number's fixed source (a static number, a pool's default), as a touch without a session.
    public init(fixed source: MarketingSource, at t: Timestamp) {
        self.init(sessionID: nil, at: t, channel: source.channel, source: source.utmSource, medium: source.utmMedium,
                  campaign: source.utmCampaign)
    }

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", at, channel, source, medium, campaign, content, term, referrer
        case landingURL = "landing_url", gclid, yclid
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let session = try c.decode(String.self, forKey: .sessionID)
        self.init(
            sessionID: session.isEmpty ? nil : session,
            at: Timestamp(secondsSinceEpoch: try c.decode(Double.self, forKey: .at)),
            channel: try c.decode(Channel.self, forKey: .channel),
            source: try c.decodeIfPresent(String.self, forKey: .source), medium: try c.decodeIfPresent(String.self, forKey: .medium),
            campaign: try c.decodeIfPresent(String.self, forKey: .campaign), content: try c.decodeIfPresent(String.self, forKey: .content),
            term: try c.decodeIfPresent(String.self, forKey: .term), referrer: try c.decodeIfPresent(String.self, forKey: .referrer),
            landingURL: try c.decodeIfPresent(String.self, forKey: .landingURL), gclid: try c.decodeIfPresent(String.self, forKey: .gclid),
            yclid: try c.decodeIfPresent(String.self, forKey: .yclid))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sessionID ?? "", forKey: .sessionID)
        try c.encode(at.secondsSinceEpoch, forKey: .at)
        try c.encode(channel, forKey: .channel)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encodeIfPresent(medium, forKey: .medium)
        try c.encodeIfPresent(campaign, forKey: .campaign)
        try c.encodeIfPresent(content, forKey: .content)
        try c.encodeIfPresent(term, forKey: .term)
        try c.encodeIfPresent(referrer, forKey: .referrer)
        try c.encodeIfPresent(landingURL, forKey: .landingURL)
        try c.encodeIfPresent(gclid, forKey: .gclid)
        try c.encodeIfPresent(yclid, forKey: .yclid)
    }
}
