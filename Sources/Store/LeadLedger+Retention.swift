import CallTrackCore
import GRDB

/// Retention per kind of personal data (SPEC §Privacy): each kind is replaced, never the row deleted, once it is
/// older than the policy says, so statistics and attribution survive. A redacted lead is a new revision queued in
/// the outbox in the same transaction, so PostgreSQL (and every destination) gets the redaction like any change.
///
/// Work goes in batches of `batchSize` rows, each its own short transaction: a sweep over years of data never holds
/// the writer long enough to delay an allocation noticeably.
extension LeadLedger {
    public func redact(_ policy: RetentionPolicy, at now: Timestamp, batchSize: Int = 500) async throws(StoreUnavailable) -> RedactionCounts {
        var counts = RedactionCounts()
        let cutoffs = policy.cutoffs(at: now)
        let micros = { (kind: PersonalData) in cutoffs[kind]!.microsecondsSinceEpoch }
        do {
            // Sessions: each kind's columns, by when the visit began (its last activity for who it was).
            let sessionColumns: [(kind: PersonalData, set: String, pending: String, time: String)] = [
                (.ipAddresses, "client_network = NULL", "client_network IS NOT NULL", "started_at"),
                (.userAgents, "user_agent = NULL", "user_agent IS NOT NULL", "started_at"),
                (.urls, "referrer = NULL, landing_url = NULL", "(referrer IS NOT NULL OR landing_url IS NOT NULL)", "started_at"),
                (.sessions, "visitor_id = '', ga_client_id = NULL, ga_session_id = NULL, ym_uid = NULL, gclid = NULL, yclid = NULL, fbclid = NULL, msclkid = NULL",
                 "(visitor_id <> '' OR ga_client_id IS NOT NULL OR ym_uid IS NOT NULL OR gclid IS NOT NULL OR yclid IS NOT NULL OR fbclid IS NOT NULL OR msclkid IS NOT NULL)",
                 "last_activity_at"),
            ]
            for (kind, set, pending, time) in sessionColumns {
                let cutoff = micros(kind)
                counts.sessions += try await batches(batchSize) { db, limit in
                    try db.execute(sql: """
                        UPDATE session SET \(set) WHERE id IN (SELECT id FROM session WHERE \(time) < ? AND \(pending) LIMIT ?)
                        """, arguments: [cutoff, limit])
                    return db.changesCount
                }
            }
            // Leases name the visitor that held the number; keyed by start, so this is a range.
            let (visits, callers) = (micros(.sessions), micros(.callers))
            counts.leases += try await batches(batchSize) { db, limit in
                try db.execute(sql: """
                    UPDATE lease SET visitor_id = '' WHERE (started_at, session_id, number) IN
                        (SELECT started_at, session_id, number FROM lease WHERE started_at < ? AND visitor_id <> '' LIMIT ?)
                    """, arguments: [visits, limit])
                return db.changesCount
            }
            counts.calls += try await batches(batchSize) { db, limit in
                try db.execute(sql: """
                    UPDATE call SET caller = NULL, caller_raw = '', caller_name = NULL WHERE id IN (SELECT id FROM call
                        WHERE started_at < ? AND (caller IS NOT NULL OR caller_raw <> '' OR caller_name IS NOT NULL) LIMIT ?)
                    """, arguments: [callers, limit])
                return db.changesCount
            }
            counts.leads += try await redactLeads(policy, cutoffs: cutoffs, at: now, batchSize: batchSize)
            counts.merges += try await redactMerges(cutoffs: cutoffs, at: now)
            let identifierCutoff = (now - policy.identifiers).microsecondsSinceEpoch
            let sticky = self.sticky
            counts.identifiers += try await batches(batchSize) { db, limit in
                let deleted = try GRDB.Row.fetchAll(db, sql: """
                    DELETE FROM visitor_identifier WHERE (kind, value) IN (SELECT kind, value FROM visitor_identifier WHERE last_seen_at < ? LIMIT ?)
                    RETURNING kind, value
                    """, arguments: [identifierCutoff, limit])
                // A phone no longer bound has no person: its sticky dealer is its own leads' only.
                sticky.touch(phones: deleted.compactMap { row -> String? in
                    row[0] as String == VisitorIdentifier.Kind.phone.rawValue ? row[1] : nil
                }, visitors: [], db)
                return deleted.count
            }
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            throw StoreUnavailable("cannot apply the retention policy: \(SQLiteStore.explain(error))")
        }
        return counts
    }

    /// Runs `body` (one transaction each) until it changes fewer rows than `limit`; returns the rows changed.
    private func batches(_ limit: Int, _ body: @Sendable @escaping (Database, Int) throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let changed = try await database.write { db in try body(db, limit) }
            total += changed
            if changed < limit { return total }
        }
    }

    /// Per kind, the leads begun before its cutoff that still have it: each becomes the revision without every
    /// kind due for it, marked in `redacted`, and is queued. Returns the leads rewritten.
    private func redactLeads(_ policy: RetentionPolicy, cutoffs: [PersonalData: Timestamp], at now: Timestamp, batchSize: Int) async throws -> Int {
        let topic = outbox.topic
        let sticky = self.sticky
        var rewritten = 0
        for kind in PersonalData.allCases {
            let cutoff = cutoffs[kind]!.microsecondsSinceEpoch
            while true {
                let (seen, changed, newest) = try await database.write { db -> (Int, Int, Int64?) in
                    let rows = try GRDB.Row.fetchAll(db, sql: """
                        SELECT * FROM lead WHERE started_at < ? AND (redacted & ?) = 0 ORDER BY started_at LIMIT ?
                        """, arguments: [cutoff, kind.bit, batchSize])
                    var changed = 0
                    var newest: Int64?
                    var (stickyPhones, stickyVisitors): ([String], [VisitorID]) = ([], [])
                    defer { sticky.touch(phones: stickyPhones, visitors: stickyVisitors, db) }
                    for row in rows {
                        let stored = Self.row(row)
                        // Redacting callers or sessions takes a number or a person off the lead: both answers are read again.
                        let before = StickyFields(row)
                        if before.dealer != nil {
                            if let caller = before.caller { stickyPhones.append(caller) }
                            if let visitor = before.visitor { stickyVisitors.append(visitor) }
                        }
                        let already = PersonalDataSet(rawValue: row["redacted"])
                        let due = policy.due(startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]), at: now).union(PersonalDataSet([kind])).subtracting(already)
                        if let lead = stored.lead, let redacted = lead.redacting(due, at: now) {
                            try db.cachedStatement(sql: Self.upsertSQL).execute(arguments: Self.arguments(redacted, callRevision: stored.callRevision, at: now))
                            newest = try Outbox.insert(topic: topic, key: lead.callID, revision: redacted.revision, at: now, db)
                            changed += 1
                        } else if stored.lead == nil {
                            // A row no lead can be read from (an old payload the upgrade could not convert): its columns.
                            try Self.redactColumns(of: stored.callID, due, db)
                        }
                        try db.execute(sql: "UPDATE lead SET redacted = redacted | ? WHERE call_id = ?", arguments: [due.union(already).rawValue, stored.callID])
                    }
                    return (rows.count, changed, newest)
                }
                rewritten += changed
                if let newest { outbox.ring(newest: newest) }
                if seen < batchSize { break }
            }
        }
        return rewritten
    }

    /// The personal columns of a lead row that cannot be read as a lead.
    private static func redactColumns(of callID: String, _ kinds: PersonalDataSet, _ db: Database) throws {
        if kinds.contains(.callers) {
            try db.execute(sql: "UPDATE lead SET caller = NULL, caller_raw = '', caller_name = NULL WHERE call_id = ?", arguments: [callID])
        }
        if kinds.contains(.userAgents) { try db.execute(sql: "UPDATE lead SET user_agent = NULL WHERE call_id = ?", arguments: [callID]) }
        if kinds.contains(.sessions) {
            try db.execute(sql: "UPDATE lead SET visitor_id = NULL, match_visitor_id = NULL WHERE call_id = ?", arguments: [callID])
        }
    }

    /// A merge's `via` names the identifier that linked two visitors (`phone:+7…`, `ga:…`): the value goes with its
    /// kind's retention (phones with `callers`, the others with `sessions`), the kind stays, and the merge is queued
    /// again so destinations replace it too.
    private func redactMerges(cutoffs: [PersonalData: Timestamp], at now: Timestamp) async throws -> Int {
        let topic = outbox.topic
        let (changed, newest) = try await database.write { db -> (Int, Int64?) in
            let merged = try String.fetchAll(db, sql: """
                UPDATE visitor_merge SET via = substr(via, 1, instr(via, ':'))
                WHERE instr(via, ':') > 0 AND length(via) > instr(via, ':')
                    AND merged_at < CASE WHEN via LIKE 'phone:%' THEN ? ELSE ? END
                RETURNING merged_id
                """, arguments: [cutoffs[.callers]!.microsecondsSinceEpoch, cutoffs[.sessions]!.microsecondsSinceEpoch])
            var newest: Int64?
            for id in merged {
                newest = try Outbox.insert(topic: topic, key: VisitorMerge.outboxKeyPrefix + id, revision: nil, at: now, db)
            }
            return (merged.count, newest)
        }
        if let newest { outbox.ring(newest: newest) }
        return changed
    }
}
