/// A dealer or sales point that receives leads, by its configured id.
public typealias DealerID = String

/// One call as the CRM sees it (SPEC §Leads in PostgreSQL): the call, how it was matched to a visit and why,
/// the person's first and last touch and journey, the dealer, and whether it is a lead at all.
///
/// Opened when the call starts ringing (`Lead.open`) and updated when it is answered and when it ends
/// (`update(with:)`); `revision` grows with every change, so a consumer keeps the highest.
public struct Lead: Hashable, Sendable {
    public var callID: String
    public var revision: Int64
    public var siteID: String
    public var trackingNumber: PhoneNumber
    /// The caller; nil when withheld or not a number (then `callerRaw` says what Asterisk sent).
    public var caller: PhoneNumber?
    public var callerRaw: String
    public var callerName: String?
    public var startedAt: Timestamp
    public var answeredAt: Timestamp?
    public var endedAt: Timestamp?
    public var disposition: Disposition
    public var answeredBy: String?
    public var talkSeconds: Int
    public var ringSeconds: Int
    /// The match and why: kind, confidence, candidates with their lease intervals, the deciding rule.
    public var match: Match
    /// The person behind the call: the matched visitor, or the one it was merged into.
    public var visitorID: VisitorID?
    /// The matched session's browser.
    public var userAgent: String?
    public var firstTouch: Touch?
    /// The last non-direct touch (the last touch when every one is direct).
    public var lastTouch: Touch?
    /// The person's sessions up to the call, oldest first.
    public var journey: [Touch]
    public var dealerID: DealerID?
    /// How the dealer was found (nil: no dealer was decided, the site has none).
    public var dealerRule: RoutingDecision.Rule?
    /// Why this dealer, as the routing decision said it (`region +7 495 → moscow-north, priority 1, …`), with
    /// the failover dealer that answered appended when it was not the chosen one.
    public var dealerReason: String?
    /// Why the call is not a lead; nil while nothing says so.
    public var junkReason: JunkReason?
    /// The lead this call repeats; always a lead (when that lead turns junk, its repeats are decided again).
    public var repeatOf: String?
    /// When the dealer called this unanswered caller back (an outbound call from its targets seen on AMI).
    public var calledBackAt: Timestamp?
    /// What became of the lead in the CRM, one per stage, in stage order (`record(_:at:)`).
    public var outcomes: [DealOutcome]
    /// When this revision was made.
    public var changedAt: Timestamp

    public init(
        callID: String, revision: Int64 = 0, siteID: String, trackingNumber: PhoneNumber, caller: PhoneNumber? = nil,
        callerRaw: String = "", callerName: String? = nil, startedAt: Timestamp, answeredAt: Timestamp? = nil,
        endedAt: Timestamp? = nil, disposition: Disposition = .ringing, answeredBy: String? = nil, talkSeconds: Int = 0,
        ringSeconds: Int = 0, match: Match, visitorID: VisitorID? = nil, userAgent: String? = nil, firstTouch: Touch? = nil,
        lastTouch: Touch? = nil, journey: [Touch] = [], dealerID: DealerID? = nil,
        dealerRule: RoutingDecision.Rule? = nil, dealerReason: String? = nil, junkReason: JunkReason? = nil,
        repeatOf: String? = nil, calledBackAt: Timestamp? = nil, outcomes: [DealOutcome] = [], changedAt: Timestamp
    ) {
        self.callID = callID
        self.revision = revision
        self.siteID = siteID
        self.trackingNumber = trackingNumber
        self.caller = caller
        self.callerRaw = callerRaw
        self.callerName = callerName
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.disposition = disposition
        self.answeredBy = answeredBy
        self.talkSeconds = talkSeconds
        self.ringSeconds = ringSeconds
        self.match = match
        self.visitorID = visitorID
        self.userAgent = userAgent
        self.firstTouch = firstTouch
        self.lastTouch = lastTouch
        self.journey = journey
        self.dealerID = dealerID
        self.dealerRule = dealerRule
        self.dealerReason = dealerReason
        self.junkReason = junkReason
        self.repeatOf = repeatOf
        self.calledBackAt = calledBackAt
        self.outcomes = outcomes
        self.changedAt = changedAt
    }

    /// A lead: neither junk nor the repeat of another lead.
    public var isLead: Bool { junkReason == nil && repeatOf == nil }

    /// The caller as the CRM shows it: the number in E.164, else what Asterisk sent.
    public var callerText: String { caller?.e164 ?? callerRaw }

    /// The call as the uniqueness and junk rules see it.
    public var leadCall: LeadCall {
        LeadCall(id: callID, startedAt: startedAt, person: visitorID, caller: caller, siteID: siteID, dealerID: dealerID,
                 junkReason: junkReason, repeatOf: repeatOf)
    }

    /// How the call went, as far as calltrackd saw it.
    public enum Disposition: String, Hashable, Sendable, Codable, CaseIterable {
        case ringing, answered
        case noAnswer = "no_answer"
        case busy, failed
        /// Left a queue unanswered.
        case abandoned
        /// Ended while calltrackd was disconnected from Asterisk: nobody saw whether it was answered.
        case unknown
    }
}

/// Why a call is not a lead (`LeadRules.junkReason`); it is kept all the same.
public enum JunkReason: String, Hashable, Sendable, Codable, CaseIterable {
    case blockedCaller = "blocked_caller"
    /// Withheld: cannot be called back.
    case anonymous
    case callerNotANumber = "caller_not_a_number"
    /// Answered, and shorter than `LeadRules.minTalkSeconds`.
    case shortTalk = "short_talk"
}
