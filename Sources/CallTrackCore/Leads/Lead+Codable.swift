/// A lead as JSON: the keys of the PostgreSQL lead table's columns in camel case (`callID`, `matchKind`,
/// `isLead`, …), with the match explanation, the touches and the journey as nested values. `calltrackd leads
/// --json` and `GET /v1/admin/leads` show it; absent values are left out.
extension Lead: Codable {
    enum CodingKeys: String, CodingKey {
        case callID, revision, siteID, trackingNumber, caller, callerRaw, callerName, startedAt, answeredAt, endedAt
        case disposition, answeredBy, talkSeconds, ringSeconds, matchKind, matchConfidence, candidateCount
        case matchExplanation, visitorID, sessionID, userAgent, firstTouch, lastTouch, journey, dealerID, dealerRule, dealerReason
        case isLead, junkReason, repeatOf, calledBackAt, outcomes, changedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode(String.self, forKey: .callerRaw)
        let shown = try c.decodeIfPresent(String.self, forKey: .caller)
        self.init(
            callID: try c.decode(String.self, forKey: .callID), revision: try c.decode(Int64.self, forKey: .revision),
            siteID: try c.decode(String.self, forKey: .siteID), trackingNumber: try c.decode(PhoneNumber.self, forKey: .trackingNumber),
            caller: shown.flatMap { try? PhoneNumber.e164($0) }, callerRaw: raw,
            callerName: try c.decodeIfPresent(String.self, forKey: .callerName),
            startedAt: try c.decode(Timestamp.self, forKey: .startedAt), answeredAt: try c.decodeIfPresent(Timestamp.self, forKey: .answeredAt),
            endedAt: try c.decodeIfPresent(Timestamp.self, forKey: .endedAt), disposition: try c.decode(Disposition.self, forKey: .disposition),
            answeredBy: try c.decodeIfPresent(String.self, forKey: .answeredBy), talkSeconds: try c.decode(Int.self, forKey: .talkSeconds),
            ringSeconds: try c.decode(Int.self, forKey: .ringSeconds), match: try c.decode(Match.self, forKey: .matchExplanation),
            visitorID: try c.decodeIfPresent(String.self, forKey: .visitorID), userAgent: try c.decodeIfPresent(String.self, forKey: .userAgent),
            firstTouch: try c.decodeIfPresent(Touch.self, forKey: .firstTouch), lastTouch: try c.decodeIfPresent(Touch.self, forKey: .lastTouch),
            journey: try c.decode([Touch].self, forKey: .journey), dealerID: try c.decodeIfPresent(String.self, forKey: .dealerID),
            dealerRule: try c.decodeIfPresent(RoutingDecision.Rule.self, forKey: .dealerRule),
            dealerReason: try c.decodeIfPresent(String.self, forKey: .dealerReason),
            junkReason: try c.decodeIfPresent(JunkReason.self, forKey: .junkReason), repeatOf: try c.decodeIfPresent(String.self, forKey: .repeatOf),
            calledBackAt: try c.decodeIfPresent(Timestamp.self, forKey: .calledBackAt),
            outcomes: try c.decodeIfPresent([DealOutcome].self, forKey: .outcomes) ?? [],
            changedAt: try c.decode(Timestamp.self, forKey: .changedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(callID, forKey: .callID)
        try c.encode(revision, forKey: .revision)
        try c.encode(siteID, forKey: .siteID)
        try c.encode(trackingNumber, forKey: .trackingNumber)
        try c.encode(callerText, forKey: .caller)
        try c.encode(callerRaw, forKey: .callerRaw)
        try c.encodeIfPresent(callerName, forKey: .callerName)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encodeIfPresent(answeredAt, forKey: .answeredAt)
        try c.encodeIfPresent(endedAt, forKey: .endedAt)
        try c.encode(disposition, forKey: .disposition)
        try c.encodeIfPresent(answeredBy, forKey: .answeredBy)
        try c.encode(talkSeconds, forKey: .talkSeconds)
        try c.encode(ringSeconds, forKey: .ringSeconds)
        try c.encode(match.kind, forKey: .matchKind)
        try c.encode(match.confidence, forKey: .matchConfidence)
        try c.encode(match.candidateCount, forKey: .candidateCount)
        try c.encode(match, forKey: .matchExplanation)
        try c.encodeIfPresent(visitorID, forKey: .visitorID)
        try c.encodeIfPresent(match.sessionID, forKey: .sessionID)
        try c.encodeIfPresent(userAgent, forKey: .userAgent)
        try c.encodeIfPresent(firstTouch, forKey: .firstTouch)
        try c.encodeIfPresent(lastTouch, forKey: .lastTouch)
        try c.encode(journey, forKey: .journey)
        try c.encodeIfPresent(dealerID, forKey: .dealerID)
        try c.encodeIfPresent(dealerRule, forKey: .dealerRule)
        try c.encodeIfPresent(dealerReason, forKey: .dealerReason)
        try c.encode(isLead, forKey: .isLead)
        try c.encodeIfPresent(junkReason, forKey: .junkReason)
        try c.encodeIfPresent(repeatOf, forKey: .repeatOf)
        try c.encodeIfPresent(calledBackAt, forKey: .calledBackAt)
        if !outcomes.isEmpty { try c.encode(outcomes, forKey: .outcomes) }
        try c.encode(changedAt, forKey: .changedAt)
    }
}
