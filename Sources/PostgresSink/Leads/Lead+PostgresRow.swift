import CallTrackCore
import Foundation

/// A lead as a row of `calltrack.lead`: the one place a `Lead` becomes PostgreSQL values. Bad data never fails
/// a batch: free text is cut to a size a CRM can show, and JSON loses the `\u0000` escapes `jsonb` refuses
/// (NUL bytes in plain text are dropped by the parameters). The match explanation, the touches and the journey
/// are the JSON the attribution views read:
///
/// ```
/// match_explanation  {"candidates":[{"last_activity":"2027-01-15T07:59:50Z","lease_end":…,"session_id":"s2",…}],
///                     "confidence":1,"kind":"exact","rule":"one lease held the number at call time"}
/// first_touch        {"at":1799913600,"campaign":"pumps","channel":"paid_search","medium":"cpc","session_id":"s1","source":"google"}
/// ```
extension Lead {
    /// Bytes kept of each free-text field; longer values are cut at a character boundary.
    public enum PostgresLimits {
        public static let userAgent = 1024
        public static let callerName = 256
        public static let text = 512
    }

    /// Appends this lead's values in `LeadWriter.columns` order.
    func appendPostgresColumns(to p: inout some PostgresValues) {
        func cut(_ text: String?, _ limit: Int = PostgresLimits.text) -> String? {
            guard let text, text.utf8.count > limit else { return text }
            return LeadText.truncated(text, maxBytes: limit)
        }
        // The call id is the key and is never cut (one PostgreSQL refuses is set aside).
        p.append(callID); p.append(revision); p.append(cut(siteID)); p.append(cut(trackingNumber.e164))
        p.append(cut(callerText)); p.append(cut(callerName, PostgresLimits.callerName))
        p.append(startedAt); p.append(answeredAt); p.append(endedAt)
        p.append(disposition.rawValue); p.append(cut(answeredBy)); p.append(talkSeconds); p.append(ringSeconds)
        p.append(match.kind.rawValue); p.append(match.confidence); p.append(match.candidateCount)
        p.append(Self.json(MatchExplanation(match)))
        p.append(cut(visitorID)); p.append(cut(match.sessionID)); p.append(cut(userAgent, PostgresLimits.userAgent))
        p.append(firstTouch.map { Self.json($0) }); p.append(lastTouch.map { Self.json($0) }); p.append(Self.json(journey))
        p.append(cut(dealerID)); p.append(isLead); p.append(junkReason?.rawValue); p.append(cut(repeatOf)); p.append(changedAt)
        p.append(dealerRule?.rawValue); p.append(cut(dealerReason))
        p.append(calledBackAt); p.append(dealStage?.rawValue); p.append(Self.json(outcomes.map(OutcomeRow.init)))
    }

    /// An outcome as `lead.outcomes` holds it: the amount as decimal text (exact; the `lead_outcome` view makes it
    /// `numeric`), the time in epoch seconds like the touches.
    struct OutcomeRow: Encodable {
        var stage: String
        var amount: String?
        var currency: String?
        var crm_deal_id: String?
        var at: Double
        var reported_by: String

        init(_ outcome: DealOutcome) {
            stage = outcome.stage.rawValue
            amount = outcome.amount?.decimal
            currency = outcome.amount?.currency
            crm_deal_id = outcome.crmDealID.map { LeadText.truncated($0, maxBytes: 200) }
            at = outcome.at.secondsSinceEpoch
            reported_by = outcome.reportedBy
        }
    }

    /// JSON text for a `jsonb` column: sorted keys, unescaped slashes, no `\u0000`.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return LeadText.jsonWithoutNUL((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null")
    }
}
