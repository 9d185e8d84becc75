import CallTrackCore
import Foundation

/// A session as a lead's journey shows it (the shape the PostgreSQL attribution views read).
struct Touch: Codable, Sendable {
    var session_id: String
    /// Epoch seconds.
    var at: Double
    var channel: String
    var source: String?
    var medium: String?
    var campaign: String?
    var content: String?
    var term: String?
    var referrer: String?
    var landing_url: String?
    var gclid: String?
    var yclid: String?

    init(_ session: SessionRecord) {
        let s = session.source
        session_id = session.id
        at = session.startedAt.secondsSinceEpoch
        channel = s.channel.rawValue
        source = s.utmSource
        medium = s.utmMedium
        campaign = s.utmCampaign
        content = s.utmContent
        term = s.utmTerm
        referrer = s.referrer
        landing_url = s.landingURL
        gclid = s.clickIDs.gclid
        yclid = s.clickIDs.yclid
    }

    /// A static number's fixed source, as a touch without a session.
    init(static source: MarketingSource, at t: Timestamp) {
        session_id = ""
        at = t.secondsSinceEpoch
        channel = source.channel.rawValue
        self.source = source.utmSource
        medium = source.utmMedium
        campaign = source.utmCampaign
    }

    /// A JSON column as stored with a lead (`json`); nil when it is not that shape.
    static func decode<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
        try? JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// Why a call got its match, as stored with the lead: rule, confidence, candidates with their lease intervals.
struct MatchExplanation: Codable, Sendable {
    struct Candidate: Codable, Sendable {
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

    static func iso(_ t: Timestamp) -> String { t.iso8601 }
}
