/// What a visitor's session is asked to show, and why (SPEC §Allocation 6).
public struct Assignment: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case pool, `static`, fallback
    }

    /// Why a session did not get a pool number.
    public enum FallbackReason: String, Hashable, Sendable, Codable, CaseIterable {
        case bot, rateLimited = "rate_limited", doNotTrack = "dnt", interactionRequired = "interaction_required"
        case segment, exhausted, noPool = "no_pool"
    }

    public var siteID: String
    public var number: PhoneNumber
    public var kind: Kind
    public var reason: FallbackReason?
    /// The pool lease, for `kind == .pool`.
    public var lease: Lease?
    public var poolID: String?
    /// What the pool did: touched, leased, shared. Nil for static and fallback answers.
    public var outcome: PoolAllocator.Outcome?

    public var isNewLease: Bool {
        switch outcome {
        case .leased, .shared: true
        default: false
        }
    }
}

/// One `POST /v1/sessions`, as the domain sees it.
public struct AllocationRequest: Hashable, Sendable {
    public var siteID: String
    public var sessionID: SessionID
    public var visitorID: VisitorID
    public var source: MarketingSource
    public var userAgent: String?
    public var clientIP: String?
    /// The visitor scrolled, clicked, typed, or stayed visible long enough.
    public var interacted: Bool
    public var doNotTrack: Bool
    /// The number the visitor held last (from its record), for stickiness.
    public var previousNumber: PhoneNumber?

    public init(
        siteID: String, sessionID: SessionID, visitorID: VisitorID, source: MarketingSource = MarketingSource(),
        userAgent: String? = nil, clientIP: String? = nil, interacted: Bool = true, doNotTrack: Bool = false,
        previousNumber: PhoneNumber? = nil
    ) {
        self.siteID = siteID
        self.sessionID = sessionID
        self.visitorID = visitorID
        self.source = source
        self.userAgent = userAgent
        self.clientIP = clientIP
        self.interacted = interacted
        self.doNotTrack = doNotTrack
        self.previousNumber = previousNumber
    }
}
