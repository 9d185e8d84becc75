import CallTrackCore
import HTTPAPI
import Store

/// A lead as `GET /v1/admin/leads` and `calltrackd leads --json` show it, in the API's style: the columns of
/// the PostgreSQL `lead` table (the newest version of the lead), snake_case, times in ISO 8601, and the JSON
/// columns (match explanation, touches, journey) as objects whose times are ISO 8601 too.
struct LeadView: Encodable, Sendable {
    /// A session of the journey (`Touch`), its time in ISO 8601.
    struct Visit: Encodable, Sendable {
        var session_id: String
        var at: String
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

        init(_ touch: Touch) {
            session_id = touch.sessionID ?? ""
            at = APITime.format(touch.at)
            channel = touch.channel.rawValue
            (source, medium, campaign, content, term) = (touch.source, touch.medium, touch.campaign, touch.content, touch.term)
            (referrer, landing_url, gclid, yclid) = (touch.referrer, touch.landingURL, touch.gclid, touch.yclid)
        }
    }

    var call_id: String
    var revision: Int64
    var site_id: String
    var tracking_number: String
    var caller: String?
    var caller_name: String?
    var started_at: String
    var answered_at: String?
    var ended_at: String?
    var disposition: String
    var answered_by: String?
    var talk_seconds: Int
    var ring_seconds: Int
    var match_kind: String
    var match_confidence: Double
    var candidate_count: Int
    var match_explanation: MatchExplanation?
    var visitor_id: String?
    var session_id: String?
    var user_agent: String?
    var first_touch: Visit?
    var last_touch: Visit?
    var journey: [Visit]
    var dealer_id: String?
    var dealer_rule: String?
    var dealer_reason: String?
    var is_lead: Bool
    var junk_reason: String?
    var repeat_of: String?
    var called_back_at: String?
    /// The CRM's stage now (`Lead.dealStage`) and every outcome reported, one per stage.
    var deal_stage: String?
    var outcomes: [Outcome]
    var updated_at: String

    /// What the CRM reported for one stage; the amount as a decimal string (exact), with its currency.
    struct Outcome: Encodable, Sendable {
        var stage: String
        var amount: String?
        var currency: String?
        var crm_deal_id: String?
        var at: String
        var reported_by: String

        init(_ outcome: DealOutcome) {
            stage = outcome.stage.rawValue
            amount = outcome.amount?.decimal
            currency = outcome.amount?.currency
            crm_deal_id = outcome.crmDealID
            at = APITime.format(outcome.at)
            reported_by = outcome.reportedBy
        }
    }

    init(_ lead: Lead) {
        call_id = lead.callID
        revision = lead.revision
        site_id = lead.siteID
        tracking_number = lead.trackingNumber.e164
        caller = lead.callerText
        caller_name = lead.callerName
        started_at = APITime.format(lead.startedAt)
        answered_at = lead.answeredAt.map(APITime.format)
        ended_at = lead.endedAt.map(APITime.format)
        disposition = lead.disposition.rawValue
        answered_by = lead.answeredBy
        talk_seconds = lead.talkSeconds
        ring_seconds = lead.ringSeconds
        match_kind = lead.match.kind.rawValue
        match_confidence = lead.match.confidence
        candidate_count = lead.match.candidateCount
        match_explanation = MatchExplanation(lead.match)
        visitor_id = lead.visitorID
        session_id = lead.match.sessionID
        user_agent = lead.userAgent
        first_touch = lead.firstTouch.map(Visit.init)
        last_touch = lead.lastTouch.map(Visit.init)
        journey = lead.journey.map(Visit.init)
        dealer_id = lead.dealerID
        dealer_rule = lead.dealerRule?.rawValue
        dealer_reason = lead.dealerReason
        is_lead = lead.isLead
        junk_reason = lead.junkReason?.rawValue
        repeat_of = lead.repeatOf
        called_back_at = lead.calledBackAt.map(APITime.format)
        deal_stage = lead.dealStage?.rawValue
        outcomes = lead.outcomes.map(Outcome.init)
        updated_at = APITime.format(lead.changedAt)
    }
}

/// The stored leads, newest call first, as the admin API lists them. A lead an older daemon stored that this
/// one cannot read is left out here; `calltrackd leads` names it.
struct LedgerLeads: LeadSource {
    let ledger: any LeadStore

    func leads(limit: Int) async throws -> [LeadView] {
        try await ledger.leads(limit: limit).compactMap { $0.lead.map(LeadView.init) }
    }

    func conversions(from: Timestamp, to: Timestamp) async throws -> [LeadConversion] {
        try await ledger.conversions(from: from, to: to)
    }

    func wonDeals(from: Timestamp, to: Timestamp) async throws -> [LeadConversion] {
        try await ledger.wonDeals(from: from, to: to)
    }

    func record(_ outcome: DealOutcome, for callID: String, at now: Timestamp) async throws -> (lead: LeadView, changed: Bool)? {
        switch try await ledger.record(outcome, for: callID, at: now) {
        case .recorded(let lead): (LeadView(lead), true)
        case .unchanged(let lead): (LeadView(lead), false)
        case .noLead: nil
        }
    }
}
