import CallTrackCore
import GRDB

extension LeadLedger {
    /// Stores what the CRM reported of a lead, as a new revision of the lead queued for every destination — one
    /// transaction. A report identical to the stored one for its stage changes nothing (a connector that retries
    /// counts once); a different one replaces it.
    public func record(_ outcome: DealOutcome, for callID: String, at now: Timestamp) async throws(StoreUnavailable) -> OutcomeRecording {
        let topic = outbox.topic
        let result: (OutcomeRecording, Int64?)
        do {
            result = try await committer.perform { db in
                guard let stored = try Self.stored(callID, db), var lead = stored.lead else { return (.noLead, nil) }
                guard lead.record(outcome, at: now) else { return (.unchanged(lead), nil) }
                try db.cachedStatement(sql: Self.upsertSQL).execute(arguments: Self.arguments(lead, callRevision: stored.callRevision, at: now))
                let id = try Outbox.insert(topic: topic, key: lead.callID, revision: lead.revision, at: now, db)
                return (.recorded(lead), id)
            }
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            throw StoreUnavailable("cannot store the outcome: \(SQLiteStore.explain(error))")
        }
        if let id = result.1 { outbox.ring(newest: id) }
        return result.0
    }

    /// Sets `called_back_at` on the leads of `callIDs` (unanswered calls a dealer just called back) as a new
    /// revision of each, queued for delivery, inside the caller's transaction; returns the newest outbox id.
    static func calledBack(_ callIDs: [String], at: Timestamp, topic: String, now: Timestamp, _ db: Database) throws -> Int64? {
        var newest: Int64?
        let update = try db.cachedStatement(sql: """
            UPDATE lead SET called_back_at = ?, revision = revision + 1, changed_at = ?, updated_at = ?
            WHERE call_id = ? AND called_back_at IS NULL
            RETURNING revision
            """)
        for callID in callIDs {
            // No row: the lead is gone or was called back already; nothing new to deliver.
            guard let revision = try Int64.fetchOne(update, arguments: [at.microsecondsSinceEpoch, now.microsecondsSinceEpoch,
                                                                        now.microsecondsSinceEpoch, callID]) else { continue }
            newest = try Outbox.insert(topic: topic, key: callID, revision: revision, at: now, db)
        }
        return newest
    }
}
