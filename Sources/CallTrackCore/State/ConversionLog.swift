/// What analytics destinations read and remember besides the leads (SQLite: the `session` and `conversion_event`
/// tables): the analytics ids of the visits leads were matched to, and which conversion each destination has
/// already sent or skipped for a lead, so that a lead delivered again at a later revision never sends an event
/// twice.
public protocol ConversionLog: Sendable {
    /// The analytics ids of these sessions, by session id (unknown or redacted sessions are absent).
    func analyticsIDs(ofSessions ids: [SessionID]) async throws(StoreUnavailable) -> [SessionID: VisitAnalyticsIDs]
    /// The conversions `destination` has recorded for these calls.
    func conversions(of destination: String, callIDs: [String]) async throws(StoreUnavailable) -> [ConversionRecord]
    /// Records conversions as sent or skipped by `destination`; a conversion recorded before keeps its first record.
    func record(_ conversions: [ConversionRecord], by destination: String, at now: Timestamp) async throws(StoreUnavailable)
}
