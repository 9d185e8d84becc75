/// How a call was tied to a visit (SPEC §Matching a call).
public enum MatchKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// One lease held the number when the call came.
    case exact
    /// Several leases held it (a collision): the caller's own visitor, else the most recently active one.
    case shared
    /// No live lease, but one ended within the cooldown: the visitor called just after leaving.
    case late
    /// The caller's phone is already bound to a visitor (their latest session gets the call).
    case `repeat`
    /// The number is a static one: its fixed source.
    case `static`
    case unmatched
}

/// One lease that could have brought the call, as the audit trail shows it.
public struct MatchCandidate: Hashable, Sendable, Codable {
    public var sessionID: SessionID
    public var visitorID: VisitorID
    public var leaseStart: Timestamp
    /// When the lease ended or will end.
    public var leaseEnd: Timestamp
    public var lastActivity: Timestamp
    /// Why it was not chosen, for candidates that were not.
    public var rejectedBecause: String?

    public init(_ lease: Lease, rejectedBecause: String? = nil) {
        sessionID = lease.sessionID
        visitorID = lease.visitorID
        leaseStart = lease.startedAt
        leaseEnd = lease.end
        lastActivity = lease.lastActivityAt
        self.rejectedBecause = rejectedBecause
    }
}

/// The decision and why: every call can be audited by a person.
public struct Match: Hashable, Sendable, Codable {
    public var kind: MatchKind
    public var sessionID: SessionID?
    public var visitorID: VisitorID?
    /// 1.0 for exact and static, 1/candidates for shared, lower for late as the gap grows, 0 for unmatched.
    public var confidence: Double
    /// Leases that held the number at call time (for `late`, the one that had just ended).
    public var candidateCount: Int
    public var candidates: [MatchCandidate]
    /// The rule that decided, in words.
    public var rule: String
    /// For static numbers: the number's fixed source.
    public var staticSource: MarketingSource?

    public init(
        kind: MatchKind, sessionID: SessionID? = nil, visitorID: VisitorID? = nil, confidence: Double,
        candidateCount: Int = 0, candidates: [MatchCandidate] = [], rule: String, staticSource: MarketingSource? = nil
    ) {
        self.kind = kind
        self.sessionID = sessionID
        self.visitorID = visitorID
        self.confidence = confidence
        self.candidateCount = candidateCount
        self.candidates = candidates
        self.rule = rule
        self.staticSource = staticSource
    }
}
