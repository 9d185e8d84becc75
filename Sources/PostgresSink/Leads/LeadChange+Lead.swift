import CallTrackCore
import Foundation

extension LeadChange {
    /// The lead as a row of `calltrack.lead`: the match explanation, the touches and the journey as the JSON
    /// the attribution views read.
    public init(_ lead: Lead) {
        self.init(
            callID: lead.callID, revision: lead.revision, siteID: lead.siteID, trackingNumber: lead.trackingNumber.e164,
            caller: lead.callerText, callerName: lead.callerName, startedAt: lead.startedAt, answeredAt: lead.answeredAt,
            endedAt: lead.endedAt, disposition: lead.disposition.rawValue, answeredBy: lead.answeredBy,
            talkSeconds: lead.talkSeconds, ringSeconds: lead.ringSeconds, matchKind: lead.match.kind.rawValue,
            matchConfidence: lead.match.confidence, candidateCount: lead.match.candidateCount,
            matchExplanation: Self.json(MatchExplanation(lead.match)), visitorID: lead.visitorID, sessionID: lead.match.sessionID,
            userAgent: lead.userAgent, firstTouch: lead.firstTouch.map(Self.json), lastTouch: lead.lastTouch.map(Self.json),
            journey: Self.json(lead.journey), dealerID: lead.dealerID, isLead: lead.isLead, junkReason: lead.junkReason?.rawValue,
            repeatOf: lead.repeatOf, changedAt: lead.changedAt)
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// Why a call got its match, as the `match_explanation` column holds it: rule, confidence, candidates with their
/// lease intervals (ISO 8601, UTC).
struct MatchExplanation: Encodable {
    struct Candidate: Encodable {
        var session_id: String
        var visitor_id: String
        var lease_start: String
        var lease_end: String
        var last_activity: String
        var rejected_because: String?
    }

    var kind: String
    var rule: String
    var confidence: Double
    var candidates: [Candidate]

    init(_ match: Match) {
        kind = match.kind.rawValue
        rule = match.rule
        confidence = match.confidence
        candidates = match.candidates.map {
            Candidate(session_id: $0.sessionID, visitor_id: $0.visitorID, lease_start: Self.iso($0.leaseStart),
                      lease_end: Self.iso($0.leaseEnd), last_activity: Self.iso($0.lastActivity), rejected_because: $0.rejectedBecause)
        }
    }

    static func iso(_ t: Timestamp) -> String { Date(timeIntervalSince1970: t.secondsSinceEpoch).ISO8601Format() }
}
