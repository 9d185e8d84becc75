import CallTrackCore
import GRDB

/// The leads as calltrackd keeps them locally, and the identity lookups matching needs.
///
/// A lead change is written with its outbox entry (and the caller's phone binding) in one
/// transaction: a lead is never stored without being queued for PostgreSQL, nor queued twice.
public final class LeadLedger: Sendable {
    let database: DatabasePool
    public let outbox: Outbox

    public init(store: SQLiteStore, outbox: Outbox) {
        database = store.database
        self.outbox = outbox
    }

    /// One lead's latest state, with its full change as JSON (the outbox payload).
    public struct Row: Sendable, Hashable {
        public var callID: String
        public var revision: Int
        public var siteID: String
        public var visitorID: VisitorID?
        public var caller: String?
        public var startedAt: Timestamp
        public var isLead: Bool
        public var matchKind: String
        public var payload: String

        public init(callID: String, revision: Int, siteID: String, visitorID: VisitorID?, caller: String?,
                    startedAt: Timestamp, isLead: Bool, matchKind: String, payload: String) {
            self.callID = callID
            self.revision = revision
            self.siteID = siteID
            self.visitorID = visitorID
            self.caller = caller
            self.startedAt = startedAt
            self.isLead = isLead
            self.matchKind = matchKind
            self.payload = payload
        }
    }

    /// Stores the lead change, binds the caller's phone to the visitor, and queues the change for delivery.
    /// An older revision than the stored one is ignored (replays are harmless).
    public func record(_ row: Row, binding: (phone: PhoneNumber, visitor: VisitorID)?, at now: Timestamp) async throws(StoreUnavailable) {
        let topic = outbox.topic
        let id: Int64?
        do {
            id = try await database.write { db -> Int64? in
                let stored = try Int.fetchOne(db, sql: "SELECT revision FROM lead WHERE call_id = ?", arguments: [row.callID])
                if let stored, stored >= row.revision { return nil }
                try db.execute(sql: """
                    INSERT INTO lead (call_id, revision, site_id, visitor_id, caller, started_at, is_lead, match_kind, payload, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (call_id) DO UPDATE SET revision = excluded.revision, visitor_id = excluded.visitor_id,
                        caller = excluded.caller, is_lead = excluded.is_lead, match_kind = excluded.match_kind,
                        payload = excluded.payload, updated_at = excluded.updated_at
                    """, arguments: [row.callID, row.revision, row.siteID, row.visitorID, row.caller,
                                     row.startedAt.microsecondsSinceEpoch, row.isLead, row.matchKind, row.payload,
                                     now.microsecondsSinceEpoch])
                if let binding {
                    try db.execute(sql: """
                        INSERT INTO phone_binding (phone, visitor_id, bound_at, call_id) VALUES (?, ?, ?, ?)
                        ON CONFLICT (phone) DO UPDATE SET visitor_id = excluded.visitor_id, bound_at = excluded.bound_at,
                            call_id = excluded.call_id
                        """, arguments: [binding.phone.e164, binding.visitor, now.microsecondsSinceEpoch, row.callID])
                }
                try db.execute(sql: "INSERT INTO outbox (topic, key, payload, enqueued_at) VALUES (?, ?, ?, ?)",
                               arguments: [topic, row.callID, row.payload, now.microsecondsSinceEpoch])
                return db.lastInsertedRowID
            }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
    }

    public func lead(_ callID: String) async throws(StoreUnavailable) -> Row? {
        try await read { db in try GRDB.Row.fetchOne(db, sql: "SELECT * FROM lead WHERE call_id = ?", arguments: [callID]).map(Self.row) }
    }

    /// Leads, newest call first.
    public func leads(limit: Int) async throws(StoreUnavailable) -> [Row] {
        try await read { db in try GRDB.Row.fetchAll(db, sql: "SELECT * FROM lead ORDER BY started_at DESC LIMIT ?", arguments: [limit]).map(Self.row) }
    }

    /// Calls whose lead is missing or behind the call (the daemon stopped between storing a call and its lead).
    public func callsBehind(limit: Int = 10_000) async throws(StoreUnavailable) -> [CallRecord] {
        try await read { db in
            try GRDB.Row.fetchAll(db, sql: """
                SELECT call.* FROM call LEFT JOIN lead ON lead.call_id = call.id
                WHERE lead.call_id IS NULL OR lead.revision < call.revision
                ORDER BY call.started_at LIMIT ?
                """, arguments: [limit]).map(Rows.call)
        }
    }

    /// The latest real lead (not junk, not a repeat) of this visitor or this caller since `since`: the open lead
    /// a new call repeats.
    public func openLead(visitor: VisitorID?, caller: PhoneNumber?, site: String?, since: Timestamp, before: Timestamp) async throws(StoreUnavailable) -> String? {
        try await read { db in
            try String.fetchOne(db, sql: """
                SELECT call_id FROM lead WHERE is_lead = 1 AND started_at >= ? AND started_at < ?
                  AND (visitor_id = ? OR caller = ?) AND (? IS NULL OR site_id = ?)
                ORDER BY started_at DESC LIMIT 1
                """, arguments: [since.microsecondsSinceEpoch, before.microsecondsSinceEpoch, visitor, caller?.e164, site, site])
        }
    }

    /// What matching needs to know about the visitor a caller's phone is bound to.
    public func callerVisitor(_ phone: PhoneNumber, number: PhoneNumber, at t: Timestamp, onSiteWithin: Duration) async throws(StoreUnavailable) -> CallerVisitor? {
        try await read { db in
            guard let visitor = try String.fetchOne(db, sql: "SELECT visitor_id FROM phone_binding WHERE phone = ?", arguments: [phone.e164]) else {
                return nil
            }
            let micros = t.microsecondsSinceEpoch
            let heldBefore = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM lease WHERE number = ? AND visitor_id = ? AND started_at < ?)
                """, arguments: [number.e164, visitor, micros]) ?? false
            let onSite = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM session WHERE visitor_id = ? AND last_activity_at >= ? AND started_at <= ?)
                """, arguments: [visitor, (t - onSiteWithin).microsecondsSinceEpoch, micros]) ?? false
            let latest = try String.fetchOne(db, sql: """
                SELECT id FROM session WHERE visitor_id = ? AND started_at <= ? ORDER BY started_at DESC LIMIT 1
                """, arguments: [visitor, micros])
            return CallerVisitor(visitorID: visitor, heldNumberBefore: heldBefore, onSiteNow: onSite, latestSession: latest)
        }
    }

    /// A visitor's sessions up to `t`, oldest first: the journey of a lead.
    public func journey(of visitor: VisitorID, upTo t: Timestamp, limit: Int = 200) async throws(StoreUnavailable) -> [SessionRecord] {
        try await read { db in
            try GRDB.Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT * FROM session WHERE visitor_id = ? AND started_at <= ? ORDER BY started_at DESC LIMIT ?)
                ORDER BY started_at
                """, arguments: [visitor, t.microsecondsSinceEpoch, limit]).map(Rows.session)
        }
    }

    static func row(_ row: GRDB.Row) -> Row {
        Row(callID: row["call_id"], revision: row["revision"], siteID: row["site_id"], visitorID: row["visitor_id"],
            caller: row["caller"], startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]), isLead: row["is_lead"],
            matchKind: row["match_kind"], payload: row["payload"])
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.read(body) } catch {
            throw StoreUnavailable("cannot read leads: \(SQLiteStore.explain(error))")
        }
    }
}
