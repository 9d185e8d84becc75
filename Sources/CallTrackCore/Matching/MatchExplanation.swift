/// Why a call got its match, as a person audits it and as the lead carries it to PostgreSQL and the admin
/// API: the kind, the deciding rule, the confidence, and every candidate session with its lease interval
/// (times in ISO 8601, UTC).
///
/// ```
/// {"candidates":[{"last_activity":"2026-12-01T10:04:00Z","lease_end":"2026-12-01T10:24:00Z",
///   "lease_start":"2026-12-01T10:00:00Z","session_id":"s_…","visitor_id":"v_…"}],
///  "confidence":1,"kind":"exact","rule":"single live lease"}
/// ```
public struct MatchExplanation: Encodable, Sendable, Equatable {
    public struct Candidate: Encodable, Sendable, Equatable {
        public var session_id: String
        public var visitor_id: String
        public var lease_start: String
        public var lease_end: String
        public var last_activity: String
        public var rejected_because: String?
    }

    public var kind: String
    public var rule: String
    public var confidence: Double
    public var candidates: [Candidate]

    public init(_ match: Match) {
        kind = match.kind.rawValue
        rule = match.rule
        confidence = match.confidence
        candidates = match.candidates.map {
            Candidate(session_id: $0.sessionID, visitor_id: $0.visitorID, lease_start: $0.leaseStart.iso8601,
                      lease_end: $0.leaseEnd.iso8601, last_activity: $0.lastActivity.iso8601, rejected_because: $0.rejectedBecause)
        }
    }
}
