/// What the matcher needs to know about one call: a snapshot read from the store by the caller,
/// so the decision itself is pure and replayable.
public struct MatchQuery: Sendable {
    public var trackingNumber: PhoneNumber
    /// The caller; nil when withheld or not a number (then only the number's leases can match).
    public var caller: PhoneNumber?
    public var at: Timestamp
    /// The site's static number for `trackingNumber`, if it is one.
    public var staticNumber: StaticNumber?
    /// Leases on `trackingNumber` that were live at any time in [at − cooldown, at].
    public var leases: [Lease]
    public var cooldown: Duration
    /// What is known about the visitor the caller's phone is bound to, if any.
    public var callerVisitor: CallerVisitor?

    public init(
        trackingNumber: PhoneNumber, caller: PhoneNumber?, at: Timestamp, staticNumber: StaticNumber? = nil,
        leases: [Lease], cooldown: Duration, callerVisitor: CallerVisitor? = nil
    ) {
        self.trackingNumber = trackingNumber
        self.caller = caller
        self.at = at
        self.staticNumber = staticNumber
        self.leases = leases
        self.cooldown = cooldown
        self.callerVisitor = callerVisitor
    }
}

/// The visitor a caller's phone is bound to, as far as matching cares.
public struct CallerVisitor: Hashable, Sendable {
    public var visitorID: VisitorID
    /// Every id this visitor has had (merged visitors included): a lease of any of them is theirs.
    public var allVisitorIDs: Set<VisitorID>
    /// The visitor held the tracking number on an earlier visit (wrote it down).
    public var heldNumberBefore: Bool
    /// The visitor is on the site now (a live lease or recent activity).
    public var onSiteNow: Bool
    /// Their latest session up to the call, for `repeat`.
    public var latestSession: SessionID?

    public init(visitorID: VisitorID, allVisitorIDs: Set<VisitorID> = [], heldNumberBefore: Bool, onSiteNow: Bool, latestSession: SessionID?) {
        self.visitorID = visitorID
        self.allVisitorIDs = allVisitorIDs.union([visitorID])
        self.heldNumberBefore = heldNumberBefore
        self.onSiteNow = onSiteNow
        self.latestSession = latestSession
    }
}

/// SPEC §Matching a call, as a pure function of a `MatchQuery`.
public enum CallMatcher {
    /// Confidence of a `repeat`: the phone is known, but no lease ties this call to a visit.
    public static let repeatConfidence = 0.6
    /// A `late` call right after the lease ended starts here and falls linearly to `lateFloor` at the cooldown's end.
    public static let lateCeiling = 0.9
    public static let lateFloor = 0.1

    public static func match(_ query: MatchQuery) -> Match {
        if let item = query.staticNumber {
            return Match(kind: .static, confidence: 1, rule: "static number: its fixed source", staticSource: item.source)
        }
        let t = query.at
        let live = query.leases.filter { $0.isLive(at: t) }.sorted { $0.lastActivityAt > $1.lastActivityAt }

        if let owner = query.callerVisitor, !live.isEmpty, let guarded = recycledNumberGuard(owner, live: live) {
            return guarded
        }
        switch live.count {
        case 1:
            let lease = live[0]
            return Match(
                kind: .exact, sessionID: lease.sessionID, visitorID: lease.visitorID, confidence: 1, candidateCount: 1,
                candidates: [MatchCandidate(lease)], rule: "one lease held the number at call time")
        case 2...:
            let ownerIDs = query.callerVisitor?.allVisitorIDs ?? []
            let chosen = live.first { ownerIDs.contains($0.visitorID) } ?? live[0]
            let byOwner = ownerIDs.contains(chosen.visitorID)
            let candidates = live.map { lease in
                MatchCandidate(lease, rejectedBecause: lease == chosen ? nil
                    : byOwner ? "another visitor; the caller's phone belongs to the chosen one" : "less recently active")
            }
            return Match(
                kind: .shared, sessionID: chosen.sessionID, visitorID: chosen.visitorID,
                confidence: 1 / Double(live.count), candidateCount: live.count, candidates: candidates,
                rule: byOwner ? "several leases held the number: the caller's own visitor"
                    : "several leases held the number: the most recently active")
        default:
            break
        }
        if let late = lateLease(query) {
            let gap = t - late.end
            let share = max(0, min(1, gap.secondsDouble / max(query.cooldown.secondsDouble, 1)))
            return Match(
                kind: .late, sessionID: late.sessionID, visitorID: late.visitorID,
                confidence: lateCeiling - (lateCeiling - lateFloor) * share, candidateCount: 1,
                candidates: [MatchCandidate(late)],
                rule: "no live lease; the latest one ended \(Int(gap.secondsDouble)) s before the call, within the cooldown")
        }
        if let owner = query.callerVisitor {
            return Match(
                kind: .repeat, sessionID: owner.latestSession, visitorID: owner.visitorID, confidence: repeatConfidence,
                rule: "no lease; the caller's phone is bound to a known visitor")
        }
        return Match(kind: .unmatched, confidence: 0, rule: "no lease on the number and an unknown caller")
    }

    /// The caller wrote the number down on an earlier visit and calls it now, while another visitor holds it:
    /// the call is theirs, not the current holder's — unless they are on the site right now.
    static func recycledNumberGuard(_ owner: CallerVisitor, live: [Lease]) -> Match? {
        guard owner.heldNumberBefore, !owner.onSiteNow,
              !live.contains(where: { owner.allVisitorIDs.contains($0.visitorID) }) else { return nil }
        return Match(
            kind: .repeat, sessionID: owner.latestSession, visitorID: owner.visitorID, confidence: repeatConfidence,
            candidateCount: live.count,
            candidates: live.map { MatchCandidate($0, rejectedBecause: "recycled number: the caller held it on an earlier visit") },
            rule: "recycled-number guard: the caller's visitor held this number before and is not on the site now")
    }

    /// The lease that ended last before the call, if within the cooldown.
    static func lateLease(_ query: MatchQuery) -> Lease? {
        query.leases
            .filter { $0.end <= query.at && query.at - $0.end <= query.cooldown }
            .max { $0.end < $1.end }
    }
}
