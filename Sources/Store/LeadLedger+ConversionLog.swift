import CallTrackCore
import GRDB

/// The analytics destinations' reads and their memory of what they sent (`conversion_event`).
extension LeadLedger: ConversionLog {
    public func analyticsIDs(ofSessions ids: [SessionID]) async throws(StoreUnavailable) -> [SessionID: VisitAnalyticsIDs] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        return try await read { db in
            var found: [SessionID: VisitAnalyticsIDs] = [:]
            // SQLite's default limit on bound values is 32,766; a destination's batch is far below it.
            let marks = Array(repeating: "?", count: unique.count).joined(separator: ", ")
            for row in try GRDB.Row.fetchAll(db, sql: """
                SELECT id, ga_client_id, ga_session_id FROM session WHERE id IN (\(marks))
                """, arguments: StatementArguments(unique)) {
                found[row["id"]] = VisitAnalyticsIDs(gaClientID: row["ga_client_id"], gaSessionID: row["ga_session_id"])
            }
            return found
        }
    }

    public func conversions(of destination: String, callIDs: [String]) async throws(StoreUnavailable) -> [ConversionRecord] {
        let unique = Array(Set(callIDs))
        guard !unique.isEmpty else { return [] }
        return try await read { db in
            let marks = Array(repeating: "?", count: unique.count).joined(separator: ", ")
            return try GRDB.Row.fetchAll(db, sql: """
                SELECT call_id, kind, outcome, reason FROM conversion_event WHERE destination = ? AND call_id IN (\(marks))
                ORDER BY call_id, kind
                """, arguments: StatementArguments([destination] + unique)).compactMap { row in
                guard let kind = ConversionKind(rawValue: row["kind"]), let outcome = ConversionRecord.Outcome(rawValue: row["outcome"]) else {
                    return nil
                }
                return ConversionRecord(callID: row["call_id"], kind: kind, outcome: outcome, reason: row["reason"])
            }
        }
    }

    public func record(_ conversions: [ConversionRecord], by destination: String, at now: Timestamp) async throws(StoreUnavailable) {
        guard !conversions.isEmpty else { return }
        do {
            try await committer.perform { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO conversion_event (destination, call_id, kind, outcome, reason, at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (destination, call_id, kind) DO NOTHING
                    """)
                for conversion in conversions {
                    try statement.execute(arguments: [destination, conversion.callID, conversion.kind.rawValue, conversion.outcome.rawValue,
                                                      conversion.reason, now.microsecondsSinceEpoch])
                }
            }
        } catch {
            throw StoreUnavailable("cannot record the conversions sent: \(SQLiteStore.explain(error))")
        }
    }
}

/// How many conversions of one kind a destination sent or skipped (and why), for `calltrackd ga4`.
public struct ConversionCount: Sendable, Hashable {
    public var kind: ConversionKind
    public var outcome: ConversionRecord.Outcome
    public var reason: String?
    public var count: Int
}

extension LeadLedger {
    /// What `destination` has recorded, counted by kind, outcome and reason.
    public func conversionCounts(of destination: String) async throws(StoreUnavailable) -> [ConversionCount] {
        try await read { db in
            try GRDB.Row.fetchAll(db, sql: """
                SELECT kind, outcome, reason, COUNT(*) AS n FROM conversion_event WHERE destination = ?
                GROUP BY kind, outcome, reason ORDER BY kind, outcome, reason
                """, arguments: [destination]).compactMap { row in
                guard let kind = ConversionKind(rawValue: row["kind"]), let outcome = ConversionRecord.Outcome(rawValue: row["outcome"]) else {
                    return nil
                }
                return ConversionCount(kind: kind, outcome: outcome, reason: row["reason"], count: row["n"])
            }
        }
    }
}
