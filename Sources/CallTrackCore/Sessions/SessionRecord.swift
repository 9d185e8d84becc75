/// One visit as stored: who, when, from where, and what number it was shown.
public struct SessionRecord: Hashable, Sendable, Codable {
    public var id: SessionID
    public var visitorID: VisitorID
    public var siteID: String
    public var startedAt: Timestamp
    public var lastActivityAt: Timestamp
    public var source: MarketingSource
    public var userAgent: String?
    /// The client IP truncated to its network (/24, /48), never the address itself (SPEC §Privacy).
    public var clientNetwork: String?
    /// Analytics client ids read from the page's cookies, for identity merging.
    public var gaClientID: String?
    public var ymUID: String?
    /// GA4's session id of the visit (the number in the `_ga_<container-id>` cookie, `GASessionID`): GA4 events
    /// sent for its calls carry it as `session_id`.
    public var gaSessionID: String?
    public var number: PhoneNumber
    public var kind: Assignment.Kind
    public var reason: Assignment.FallbackReason?

    public init(
        id: SessionID, visitorID: VisitorID, siteID: String, startedAt: Timestamp, lastActivityAt: Timestamp,
        source: MarketingSource, userAgent: String? = nil, clientNetwork: String? = nil, gaClientID: String? = nil,
        ymUID: String? = nil, gaSessionID: String? = nil, number: PhoneNumber, kind: Assignment.Kind, reason: Assignment.FallbackReason? = nil
    ) {
        self.id = id
        self.visitorID = visitorID
        self.siteID = siteID
        self.startedAt = startedAt
        self.lastActivityAt = lastActivityAt
        self.source = source
        self.userAgent = userAgent
        self.clientNetwork = clientNetwork
        self.gaClientID = gaClientID
        self.ymUID = ymUID
        self.gaSessionID = gaSessionID
        self.number = number
        self.kind = kind
        self.reason = reason
    }

    /// Longest user agent kept: enough to tell browsers apart, not enough to fill a disk.
    public static let maxUserAgentLength = 512
}
