/// What the store knew when a call started, for `Lead.open`: read by the store, so opening a lead is pure and
/// replayable. The store reads it in the change's one transaction (`LeadLedger.apply`), matching inside the read,
/// because who the person is depends on the match:
///
/// ```swift
/// var facts = LeadFacts(siteID: site.id, dealerID: site.dealer, cooldown: cooldown, leases: leases, callerVisitor: owner)
/// let match = CallMatcher.match(facts.matchQuery(for: call, number: number))
/// facts.person = …; facts.journey = …; facts.openLeads = …   // for match.visitorID
/// let lead = Lead.open(call, number: number, match: match, facts: facts, rules: rules, at: now)
/// ```
public struct LeadFacts: Sendable {
    public var siteID: String
    /// The dealer the call goes to: the routing decision's (`route`), else the site's fixed dealer.
    public var dealerID: DealerID?
    /// How `dealerID` was found, and why (nil with no dealer and no decision).
    public var dealerRule: RoutingDecision.Rule?
    public var dealerReason: String?
    /// The number's static entry, if it is one.
    public var staticNumber: StaticNumber?
    /// The source of a call nobody's visit explains (`unmatched`): the pool's or number's own default source.
    public var defaultSource: MarketingSource?
    public var cooldown: Duration
    /// Leases on the number live at any time in [call − cooldown, call].
    public var leases: [Lease]
    /// The visitor the caller's phone is bound to, if any.
    public var callerVisitor: CallerVisitor?
    /// The person behind the matched visitor (itself, or the visitor it merges into once the caller is bound).
    public var person: VisitorID?
    /// The person's sessions up to the call, oldest first.
    public var journey: [SessionRecord]
    /// The open leads of the person or caller the call may repeat (`LeadRules.repeatSearch`).
    public var openLeads: [LeadCall]

    public init(
        siteID: String, dealerID: DealerID? = nil, dealerRule: RoutingDecision.Rule? = nil, dealerReason: String? = nil,
        staticNumber: StaticNumber? = nil, defaultSource: MarketingSource? = nil,
        cooldown: Duration, leases: [Lease] = [], callerVisitor: CallerVisitor? = nil, person: VisitorID? = nil,
        journey: [SessionRecord] = [], openLeads: [LeadCall] = []
    ) {
        self.siteID = siteID
        self.dealerID = dealerID
        self.dealerRule = dealerRule
        self.dealerReason = dealerReason
        self.staticNumber = staticNumber
        self.defaultSource = defaultSource
        self.cooldown = cooldown
        self.leases = leases
        self.callerVisitor = callerVisitor
        self.person = person
        self.journey = journey
        self.openLeads = openLeads
    }

    /// Takes a routing decision's dealer, rule and reason (a decision without a dealer keeps its reason: the
    /// call went to the site's default route).
    public mutating func route(_ decision: RoutingDecision) {
        dealerID = decision.dealer
        dealerRule = decision.rule
        dealerReason = decision.reason
    }

    /// What the matcher needs of these facts for `call` to `number`.
    public func matchQuery(for call: CallRecord, number: PhoneNumber) -> MatchQuery {
        MatchQuery(trackingNumber: number, caller: call.caller, at: call.startedAt, staticNumber: staticNumber, leases: leases,
                   cooldown: cooldown, callerVisitor: callerVisitor)
    }
}

extension Lead {
    /// The lead of `call` when it starts: its match, the person's journey and touches, and the lead it repeats.
    /// Revision 0 until `update(with:)` brings in the call's state.
    public static func open(
        _ call: CallRecord, number: PhoneNumber, match: Match, facts: LeadFacts, rules: LeadRules, at now: Timestamp
    ) -> Lead {
        let t = call.startedAt
        let journey = facts.journey
        let session = journey.last { $0.id == match.sessionID }
        let firstTouch: Touch?
        let lastTouch: Touch?
        if let fixed = match.staticSource ?? (match.kind == .unmatched ? facts.defaultSource : nil) {
            firstTouch = Touch(fixed: fixed, at: t)
            lastTouch = firstTouch
        } else {
            firstTouch = journey.first.map(Touch.init)
            lastTouch = (journey.last { !$0.source.isDirect } ?? journey.last).map(Touch.init)
        }
        var lead = Lead(
            callID: call.id, siteID: facts.siteID, trackingNumber: number, caller: call.caller, callerRaw: call.callerRaw,
            callerName: call.callerName, startedAt: t, match: match, visitorID: facts.person, userAgent: session?.userAgent,
            firstTouch: firstTouch, lastTouch: lastTouch, journey: journey.map(Touch.init), dealerID: facts.dealerID,
            dealerRule: facts.dealerRule, dealerReason: facts.dealerReason, changedAt: now)
        lead.repeatOf = rules.repeatTarget(for: lead.leadCall, among: facts.openLeads)
        return lead
    }

    /// Brings in the call's latest state (answer, hangup) and the rules that depend on it (junk). The revision
    /// grows with every change: at least the call's, and above the lead's last one, which a repeat decided again
    /// may have raised beyond its call's.
    public mutating func update(with call: CallRecord, rules: LeadRules, at now: Timestamp) {
        revision = max(Int64(call.revision), revision + 1)
        answeredAt = call.answeredAt
        endedAt = call.endedAt
        disposition = call.disposition.map { Disposition(rawValue: $0) ?? .unknown } ?? (call.answeredAt != nil ? .answered : .ringing)
        answeredBy = call.answeredBy
        talkSeconds = Int((call.talkSeconds ?? 0).rounded())
        ringSeconds = Int((call.ringSeconds ?? 0).rounded())
        junkReason = rules.junkReason(call)
        changedAt = now
    }

    /// Credits the dealer whose leg answered (seen on AMI: the answering channel is one of its targets). When a
    /// failover dealer answered instead of the chosen one, the lead becomes that dealer's, and the reason says so.
    /// Returns whether the dealer changed.
    @discardableResult
    public mutating func credit(answeringDealer: DealerID?) -> Bool {
        guard let answeringDealer, answeringDealer != dealerID else { return false }
        let chosen = dealerID.map { "chosen \($0) did not answer" } ?? "no dealer was chosen"
        dealerReason = (dealerReason.map { $0 + "; " } ?? "") + "answered by \(answeringDealer) (\(chosen))"
        dealerID = answeringDealer
        if dealerRule == nil { dealerRule = RoutingDecision.Rule.none }
        return true
    }

    /// This repeat decided again (`LeadRules.redecide`): it now repeats `target`, or is a lead itself.
    public mutating func redecide(repeatOf target: String?, at now: Timestamp) {
        repeatOf = target
        revision += 1
        changedAt = now
    }
}
