import CallTrackCore
import GRDB

/// Who is who: the identifiers linked to visitors, and the merges they cause (SPEC §Identity over a long
/// sales cycle; the rule is `VisitorMergeRule`). Runs inside the caller's transaction, so a link and the merge
/// it causes are one write.
enum VisitorIdentity {
    /// Links `identifier` to `visitor`. When it already names another person, the two are one: the person it
    /// named first survives, the other is merged into it, and the merge is recorded with why: `source` made the link.
    /// The merge is queued in the lead outbox (key `merge:<merged>`), so PostgreSQL learns it in order with the leads.
    /// Returns the merge and its outbox row, if this link caused one. A phone bound for the first time, or a merge,
    /// is named to `sticky`: callers' sticky dealers follow the person.
    @discardableResult
    static func link(
        _ identifier: VisitorIdentifier, to visitor: VisitorID, by source: String, call: String? = nil, at now: Timestamp,
        sticky: StickyDealerIndex, _ db: Database
    ) throws -> (merge: VisitorMerge, outboxID: Int64)? {
        let micros = now.microsecondsSinceEpoch
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO visitor_identifier (kind, value, visitor_id, linked_at, last_seen_at, call_id) VALUES (?, ?, ?, ?, ?4, ?)
            ON CONFLICT (kind, value) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at)
            RETURNING visitor_id, linked_at
            """)
        guard let linked = try GRDB.Row.fetchOne(upsert, arguments: [identifier.kind.rawValue, identifier.value, visitor, micros, call]) else {
            return nil
        }
        let owner: VisitorID = linked[0]
        // Linked now (or again within the same microsecond: one refresh too many, never one too few).
        if identifier.kind == .phone, linked[1] as Int64 == micros { sticky.touch(phones: [identifier.value], visitors: [], db) }
        guard let merge = VisitorMergeRule.merge(
                linking: identifier, to: visitor, owner: owner, ownerSurvivor: try survivor(of: owner, db),
                visitorSurvivor: try self.survivor(of: visitor, db), by: source, call: call, at: now)
        else { return nil }
        let (merged, survivor) = (merge.merged, merge.survivor)
        // One level: whoever was merged into `merged` now points at the survivor too.
        try db.execute(sql: "UPDATE visitor_merge SET survivor_id = ? WHERE survivor_id = ?", arguments: [survivor, merged])
        try db.execute(sql: """
            INSERT INTO visitor_merge (merged_id, survivor_id, reason, via, call_id, merged_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (merged_id) DO NOTHING
            """, arguments: [merged, survivor, merge.reason, merge.via, call, micros])
        let outboxID = try Outbox.insert(topic: Outbox.leadTopic, key: VisitorMerge.outboxKeyPrefix + merged, revision: nil, at: now, db)
        sticky.touch(phones: [], visitors: [survivor], db)
        return (merge, outboxID)
    }

    /// The visitor an identifier was first linked to (not yet resolved to a survivor).
    static func owner(of identifier: VisitorIdentifier, _ db: Database) throws -> VisitorID? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT visitor_id FROM visitor_identifier WHERE kind = ? AND value = ?"),
                            arguments: [identifier.kind.rawValue, identifier.value])
    }

    /// The visitor a phone (its E.164 spelling, as stored) was first bound to.
    static func owner(ofPhone e164: String, _ db: Database) throws -> VisitorID? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT visitor_id FROM visitor_identifier WHERE kind = 'phone' AND value = ?"),
                            arguments: [e164])
    }

    /// The phones (E.164) bound to `visitor` itself.
    static func phones(of visitor: VisitorID, _ db: Database) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT value FROM visitor_identifier WHERE visitor_id = ? AND kind = 'phone'"),
                            arguments: [visitor])
    }

    /// The visitor `visitor` is now: itself, or the one it was merged into.
    static func survivor(of visitor: VisitorID, _ db: Database) throws -> VisitorID {
        try String.fetchOne(db.cachedStatement(sql: "SELECT survivor_id FROM visitor_merge WHERE merged_id = ?"), arguments: [visitor]) ?? visitor
    }

    /// Every visitor id of the person `survivor` is, the survivor first.
    static func group(of survivor: VisitorID, _ db: Database) throws -> [VisitorID] {
        [survivor] + (try String.fetchAll(db, sql: "SELECT merged_id FROM visitor_merge WHERE survivor_id = ? ORDER BY merged_at", arguments: [survivor]))
    }
}
