import CallTrackCore
import GRDB

extension LeadLedger {
    /// Leads (not junk) started in [from, to), joined to the visit they were matched to for its analytics ids; a
    /// visit redacted by the privacy rules gives none.
    public func conversions(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [LeadConversion] {
        try await read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                SELECT l.call_id, l.site_id, l.started_at, s.ym_uid, s.ga_client_id
                FROM lead l LEFT JOIN session s ON s.id = l.match_session_id
                WHERE l.started_at >= ? AND l.started_at < ? AND l.is_lead = 1 AND l.junk_reason IS NULL
                ORDER BY l.started_at, l.call_id
                """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]).map { row in
                LeadConversion(callID: row["call_id"], site: row["site_id"], at: Timestamp(microsecondsSinceEpoch: row["started_at"]),
                               ymUID: row["ym_uid"], gaClientID: row["ga_client_id"])
            }
        }
    }
}
