import CallTrackCore
import Foundation
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

extension LeadLedger {
    /// Deals won in [from, to) by the CRM's time of the win, with their amounts, joined to the visit each lead was
    /// matched to. Reads only the leads that have outcomes.
    public func wonDeals(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [LeadConversion] {
        try await read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                SELECT l.call_id, l.site_id, o.value AS outcome, s.ym_uid, s.ga_client_id
                FROM lead l JOIN json_each(l.outcomes) o LEFT JOIN session s ON s.id = l.match_session_id
                WHERE l.outcomes <> '[]' AND json_extract(o.value, '$.stage') = 'won'
                  AND json_extract(o.value, '$.at.microsecondsSinceEpoch') >= ? AND json_extract(o.value, '$.at.microsecondsSinceEpoch') < ?
                """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]).compactMap { row -> LeadConversion? in
                guard let won = try? Self.decoder.decode(DealOutcome.self, from: Data((row["outcome"] as String).utf8)) else { return nil }
                return LeadConversion(callID: row["call_id"], site: row["site_id"], at: won.at, ymUID: row["ym_uid"],
                                      gaClientID: row["ga_client_id"], price: won.amount)
            }.sorted { ($0.at, $0.callID) < ($1.at, $1.callID) }
        }
    }
}

extension LeadLedger {
    /// The readable leads of the calls started in [from, to), in start order.
    public func leads(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [Lead] {
        try await read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM lead WHERE started_at >= ? AND started_at < ? ORDER BY started_at, call_id"),
                                  arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]).compactMap { try? Self.lead($0) }
        }
    }
}

extension LeadLedger {
    /// Per dealer, the leads of the calls started in [from, to), those with any CRM outcome, and those won.
    public func dealerConversions(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [DealerID: DealerConversion] {
        try await read { db in
            var found: [DealerID: DealerConversion] = [:]
            for row in try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                SELECT dealer_id, count(*) AS leads, sum(outcomes <> '[]') AS reported,
                       sum(EXISTS (SELECT 1 FROM json_each(lead.outcomes) WHERE json_extract(value, '$.stage') = 'won')) AS won
                FROM lead WHERE started_at >= ? AND started_at < ? AND is_lead = 1 AND dealer_id IS NOT NULL GROUP BY dealer_id
                """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]) {
                found[row["dealer_id"]] = DealerConversion(leads: row["leads"], reported: row["reported"], won: row["won"])
            }
            return found
        }
    }
}
