import CallTrackCore
import GRDB

/// Identity lookups and links (SPEC §Identity over a long sales cycle); the rules are in `VisitorIdentity`.
extension LeadLedger {
    /// The visitor `visitor` is now (itself, or the one it was merged into), and every id of that person.
    static func person(of visitor: VisitorID, _ db: Database) throws -> (survivor: VisitorID, ids: [VisitorID]) {
        let survivor = try VisitorIdentity.survivor(of: visitor, db)
        return (survivor, try VisitorIdentity.group(of: survivor, db))
    }

    /// The survivor a call will end with once its caller is bound to `visitor` (see `bind`).
    static func survivorAfterBinding(_ phone: PhoneNumber?, to visitor: VisitorID, _ db: Database) throws -> VisitorID {
        if let phone, let bound = try VisitorIdentity.owner(of: VisitorIdentifier(phone: phone), db) {
            return try VisitorIdentity.survivor(of: bound, db)
        }
        return try VisitorIdentity.survivor(of: visitor, db)
    }

    /// Recorded merges, newest first.
    public func merges(limit: Int = 100) async throws(StoreUnavailable) -> [VisitorMerge] {
        try await read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM visitor_merge ORDER BY merged_at DESC LIMIT ?"), arguments: [limit]).map(Self.merge)
        }
    }

    /// The recorded merges of these visitor ids, by merged id (as they stand now: a survivor merged later is the
    /// survivor's survivor). Read off the caller's thread: the delivery asks for a whole batch.
    public func merges(of merged: [VisitorID]) async throws(StoreUnavailable) -> [VisitorID: VisitorMerge] {
        guard !merged.isEmpty else { return [:] }
        let ids = Array(Set(merged))
        do {
            return try await database.read { db in
                var found: [VisitorID: VisitorMerge] = [:]
                for id in ids {
                    if let row = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM visitor_merge WHERE merged_id = ?"), arguments: [id]) {
                        found[id] = Self.merge(row)
                    }
                }
                return found
            }
        } catch {
            throw StoreUnavailable("cannot read merges: \(SQLiteStore.explain(error))")
        }
    }


    /// A connector's link (a CRM contact id, another phone of the contact): the identifier joins the person,
    /// and a person it already named merges. Nil when the target is unknown (a visitor never seen, no such call,
    /// or a call with no visitor): a link never makes a person up.
    public func link(_ identifier: VisitorIdentifier, to target: LinkTarget, by source: String, at now: Timestamp) async throws(StoreUnavailable) -> VisitorProfile? {
        let sticky = self.sticky
        do {
            let linked = try await database.write { db -> (VisitorProfile, Int64?)? in
                let visitor: VisitorID
                switch target {
                case .visitor(let id):
                    guard try Self.isKnown(id, db) else { return nil }
                    visitor = id
                case .call(let id):
                    guard let found = try String.fetchOne(db.cachedStatement(sql: "SELECT visitor_id FROM lead WHERE call_id = ?"), arguments: [id]) else { return nil }
                    visitor = found
                }
                let merge = try VisitorIdentity.link(identifier, to: VisitorIdentity.survivor(of: visitor, db), by: source, at: now, sticky: sticky, db)
                return (try Self.profile(of: visitor, db), merge?.outboxID)
            }
            if let outboxID = linked?.1 { outbox.ring(newest: outboxID) }
            return linked?.0
        } catch {
            throw StoreUnavailable("cannot store the link: \(SQLiteStore.explain(error))")
        }
    }

    /// Everything known about the person `visitor` belongs to; nil for a visitor never seen.
    public func profile(of visitor: VisitorID) async throws(StoreUnavailable) -> VisitorProfile? {
        try await read { db in try Self.isKnown(visitor, db) ? try Self.profile(of: visitor, db) : nil }
    }

    /// Whether the daemon has seen `visitor`: in a session, with an identifier, or in a merge.
    static func isKnown(_ visitor: VisitorID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM session WHERE visitor_id = ?1) OR EXISTS (SELECT 1 FROM visitor_identifier WHERE visitor_id = ?1)
                OR EXISTS (SELECT 1 FROM visitor_merge WHERE merged_id = ?1 OR survivor_id = ?1)
            """), arguments: [visitor]) ?? false
    }

    static func profile(of visitor: VisitorID, _ db: Database) throws -> VisitorProfile {
        let survivor = try VisitorIdentity.survivor(of: visitor, db)
        let ids = try VisitorIdentity.group(of: survivor, db)
        var identifiers: [LinkedIdentifier] = []
        var merges: [VisitorMerge] = []
        var leads: [(id: String, at: Int64)] = []
        for id in ids {
            identifiers += try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM visitor_identifier WHERE visitor_id = ?"), arguments: [id]).compactMap { row in
                guard let kind = VisitorIdentifier.Kind(rawValue: row["kind"]), let identifier = VisitorIdentifier(kind, row["value"]) else { return nil }
                return LinkedIdentifier(identifier: identifier, visitorID: row["visitor_id"], linkedAt: Timestamp(microsecondsSinceEpoch: row["linked_at"]),
                                        lastSeenAt: Timestamp(microsecondsSinceEpoch: row["last_seen_at"]), callID: row["call_id"])
            }
            merges += try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM visitor_merge WHERE merged_id = ?"), arguments: [id]).map(merge)
            leads += try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT call_id, started_at FROM lead WHERE visitor_id = ?"), arguments: [id]).map {
                (id: $0["call_id"], at: $0["started_at"])
            }
        }
        return VisitorProfile(
            survivor: survivor, visitorIDs: ids, identifiers: identifiers.sorted { $0.linkedAt < $1.linkedAt },
            merges: merges.sorted { $0.at < $1.at }, leads: leads.sorted { $0.at > $1.at }.map(\.id))
    }

    static func merge(_ row: GRDB.Row) -> VisitorMerge {
        VisitorMerge(merged: row["merged_id"], survivor: row["survivor_id"], reason: row["reason"], via: row["via"],
                     callID: row["call_id"], at: Timestamp(microsecondsSinceEpoch: row["merged_at"]))
    }
}
