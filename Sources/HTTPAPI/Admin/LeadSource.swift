import CallTrackCore

/// The leads `GET /v1/admin/leads` lists, newest call first, each in the API's style (snake_case keys, ISO 8601
/// times), and the conversions the exports read. The app provides them: it knows a lead's shape, and this adapter
/// does not depend on the lead writer.
public protocol LeadSource: Sendable {
    associatedtype Lead: Encodable & Sendable
    func leads(limit: Int) async throws -> [Lead]
    /// Leads (not junk) of calls started in [from, to), with their visits' analytics ids.
    func conversions(from: Timestamp, to: Timestamp) async throws -> [LeadConversion]
}
