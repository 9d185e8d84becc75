import CallTrackCore

/// The leads `GET /v1/admin/leads` lists, newest call first, each in the API's style (snake_case keys, ISO 8601
/// times), and the conversions the exports read. The app provides them: it knows a lead's shape, and this adapter
/// does not depend on the lead writer.
public protocol LeadSource: Sendable {
    associatedtype Lead: Encodable & Sendable
    func leads(limit: Int) async throws -> [Lead]
    /// Leads (not junk) of calls started in [from, to), with their visits' analytics ids.
    func conversions(from: Timestamp, to: Timestamp) async throws -> [LeadConversion]
    /// Deals won in [from, to), with their amounts and their visits' analytics ids.
    func wonDeals(from: Timestamp, to: Timestamp) async throws -> [LeadConversion]
    /// Records what the CRM reported of the lead of `callID` (`LeadStore.record(_:for:at:)`): the lead as it stands
    /// after, and whether the report changed it; nil when no lead has that call id.
    func record(_ outcome: DealOutcome, for callID: String, at now: Timestamp) async throws -> (lead: Lead, changed: Bool)?
}
