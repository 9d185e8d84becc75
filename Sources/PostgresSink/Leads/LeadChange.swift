import CallTrackCore

/// One version of one lead, as delivered to PostgreSQL: flat, so it travels through the outbox as
/// JSON and maps one-to-one onto a row of `calltrack.lead`. JSON columns are carried as encoded
/// JSON text. A lead is written when its call starts and again on answer and hangup, each time
/// with a higher `revision`; PostgreSQL keeps the highest.
public struct LeadChange: Codable, Sendable, Hashable {
    public var callID: String
    public var revision: Int64
    public var siteID: String
    public var trackingNumber: String
    public var caller: String?
    public var callerName: String?
    public var startedAt: Timestamp
    public var answeredAt: Timestamp?
    public var endedAt: Timestamp?
    /// `ringing`, `answered`, `no_answer`, `busy`, `failed`, `abandoned`, or `unknown` (the call ended while calltrackd
    /// was disconnected from Asterisk and nobody saw whether it was answered).
    public var disposition: String
    public var answeredBy: String?
    public var talkSeconds: Int
    public var ringSeconds: Int
    /// `exact`, `shared`, `late`, `repeat`, `static` or `unmatched`.
    public var matchKind: String
    public var matchConfidence: Double
    public var candidateCount: Int
    /// JSON: the candidates with their lease intervals and the deciding rule.
    public var matchExplanation: String
    public var visitorID: String?
    public var sessionID: String?
    public var userAgent: String?
    /// JSON object: a touch (`session_id`, `at` in epoch seconds, `source`, `medium`, `campaign`, `channel`).
    public var firstTouch: String?
    /// JSON object: the last non-direct touch.
    public var lastTouch: String?
    /// JSON array of touches, oldest first, up to the call.
    public var journey: String
    public var dealerID: String?
    public var isLead: Bool
    public var junkReason: String?
    /// Call id of the lead this call repeats, if it is a repeat; always a lead (when that lead turns junk, its
    /// repeats are decided again and sent again with a higher revision).
    public var repeatOf: String?
    /// When this version was made.
    public var changedAt: Timestamp

    public init(
        callID: String, revision: Int64, siteID: String, trackingNumber: String,
        caller: String? = nil, callerName: String? = nil,
        startedAt: Timestamp, answeredAt: Timestamp? = nil, endedAt: Timestamp? = nil,
        disposition: String = "ringing", answeredBy: String? = nil, talkSeconds: Int = 0, ringSeconds: Int = 0,
        matchKind: String, matchConfidence: Double, candidateCount: Int, matchExplanation: String = "{}",
        visitorID: String? = nil, sessionID: String? = nil, userAgent: String? = nil,
        firstTouch: String? = nil, lastTouch: String? = nil, journey: String = "[]",
        dealerID: String? = nil, isLead: Bool = true, junkReason: String? = nil, repeatOf: String? = nil,
        changedAt: Timestamp
    ) {
        self.callID = callID
        self.revision = revision
        self.siteID = siteID
        self.trackingNumber = trackingNumber
        self.caller = caller
        self.callerName = callerName
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.disposition = disposition
        self.answeredBy = answeredBy
        self.talkSeconds = talkSeconds
        self.ringSeconds = ringSeconds
        self.matchKind = matchKind
        self.matchConfidence = matchConfidence
        self.candidateCount = candidateCount
        self.matchExplanation = matchExplanation
        self.visitorID = visitorID
        self.sessionID = sessionID
        self.userAgent = userAgent
        self.firstTouch = firstTouch
        self.lastTouch = lastTouch
        self.journey = journey
        self.dealerID = dealerID
        self.isLead = isLead
        self.junkReason = junkReason
        self.repeatOf = repeatOf
        self.changedAt = changedAt
    }
}
