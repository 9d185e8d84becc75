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
        public var dealerID: String?
        public var payload: String

        public init(callID: String, revision: Int, siteID: String, visitorID: VisitorID?, caller: String?,
                    startedAt: Timestamp, isLead: Bool, matchKind: String, dealerID: String? = nil, payload: String) {
            self.callID = callID
            self.revision = revision
            self.siteID = siteID
            self.visitorID = visitorID
            self.caller = caller
            self.startedAt = startedAt
            self.isLead = isLead
            self.matchKind = matchKind
            self.dealerID = dealerID
            self.payload = payload
        }
    }

    /// Stores the call and its lead change, binds the caller's phone to the visitor, and queues the change for
    /// delivery — one transaction, one fsync. An older revision than the stored one is ignored (replays are harmless).
    public func record(
        _ row: Row, call: CallRecord? = nil, binding: (phone: PhoneNumber, visitor: VisitorID)?, at now: Timestamp
    ) async throws(StoreUnavailable) {
        let topic = outbox.topic
        let id: Int64?
        do {
            id = try await database.write { db -> Int64? in
                if let call { try StateWriter.upsert(call, db) }
                let stored = try Int.fetchOne(db.cachedStatement(sql: "SELECT revision FROM lead WHERE call_id = ?"), arguments: [row.callID])
                if let stored, stored >= row.revision { return nil }
                try db.execute(sql: """
                    INSERT INTO lead (call_id, revision, site_id, visitor_id, caller, started_at, is_lead, match_kind, dealer_id, payload, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (call_id) DO UPDATE SET revision = excluded.revision, visitor_id = excluded.visitor_id,
                        caller = excluded.caller, is_lead = excluded.is_lead, match_kind = excluded.match_kind,
                        dealer_id = excluded.dealer_id, payload = excluded.payload, updated_at = excluded.updated_at
                    """, arguments: [row.callID, row.revision, row.siteID, row.visitorID, row.caller,
                                     row.startedAt.microsecondsSinceEpoch, row.isLead, row.matchKind, row.dealerID, row.payload,
                                     now.microsecondsSinceEpoch])
                if let binding { try Self.bind(binding.phone, to: binding.visitor, call: row.callID, at: now, db) }
                return try Outbox.insert(topic: topic, key: row.callID, payload: row.payload, at: now, db)
            }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
    }

    /// Binds a caller's phone to a visitor. A phone already bound to another visitor means one person:
    /// the visitor the phone was bound to first survives, the other is merged into it, and the merge is recorded.
    static func bind(_ phone: PhoneNumber, to visitor: VisitorID, call: String, at now: Timestamp, _ db: Database) throws {
        try VisitorIdentity.link(VisitorIdentifier(phone: phone), to: visitor,
                                 by: "a call matched to the merged visitor's session",
                                 call: call, at: now, db)
    }

    public func lead(_ callID: String) async throws(StoreUnavailable) -> Row? {
        // Asked for every call event: one indexed row, read on the caller's thread.
        try database.readNow("cannot read leads") { db in
            try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM lead WHERE call_id = ?"), arguments: [callID]).map(Self.row)
        }
    }

    /// Leads, newest call first.
    public func leads(limit: Int) async throws(StoreUnavailable) -> [Row] {
        try read { db in try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM lead ORDER BY started_at DESC LIMIT ?"), arguments: [limit]).map(Self.row) }
    }

    /// Calls whose lead is missing or behind the call (the daemon stopped between storing a call and its lead).
    public func callsBehind(limit: Int = 10_000) async throws(StoreUnavailable) -> [CallRecord] {
        try read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                SELECT call.* FROM call LEFT JOIN lead ON lead.call_id = call.id
                WHERE lead.call_id IS NULL OR lead.revision < call.revision
                ORDER BY call.started_at LIMIT ?
                """), arguments: [limit]).map(Rows.call)
        }
    }

    /// The latest real lead (not junk, not a repeat) of this person or this caller that `search` admits: the open
    /// lead a new call repeats.
    public func openLead(visitor: VisitorID?, caller: PhoneNumber?, search: LeadRules.RepeatSearch) async throws(StoreUnavailable) -> String? {
        try read { db in
            let (partition, value): (String, String?) = switch search.partition {
            case .all: ("1", nil)
            case .site(let site): ("site_id = ?", site)
            case .dealer(let dealer): ("dealer_id IS ?", dealer)
            }
            let scoped = search.partition == .all ? [] : [value as (any DatabaseValueConvertible)?]
            // Two indexed lookups (by visitor, by caller): an OR across them would scan every lead in the window.
            var latest: (id: String, at: Int64)?
            for (column, key) in [("visitor_id", visitor), ("caller", caller?.e164)] {
                guard let key else { continue }
                let row = try GRDB.Row.fetchOne(db, sql: """
                    SELECT call_id, started_at FROM lead WHERE \(column) = ? AND started_at >= ? AND started_at < ?
                      AND is_lead = 1 AND \(partition)
                    ORDER BY started_at DESC LIMIT 1
                    """, arguments: StatementArguments(
                        [key, search.since.microsecondsSinceEpoch, search.before.microsecondsSinceEpoch] + scoped))
                if let row, latest.map({ (row["started_at"] as Int64) > $0.at }) ?? true {
                    latest = (row["call_id"], row["started_at"])
                }
            }
            return latest?.id
        }
    }

    /// What matching needs to know about the visitor a caller's phone is bound to.
    public func callerVisitor(_ phone: PhoneNumber, number: PhoneNumber, at t: Timestamp, onSiteWithin: Duration) async throws(StoreUnavailable) -> CallerVisitor? {
        try read { db in
            guard let bound = try VisitorIdentity.owner(of: VisitorIdentifier(phone: phone), db) else {
                return nil
            }
            // The person, with every visitor id merged into them: a lease or session of any of them is theirs.
            let visitor = try VisitorIdentity.survivor(of: bound, db)
            let ids = try VisitorIdentity.group(of: visitor, db)
            let micros = t.microsecondsSinceEpoch
            var heldBefore = false
            var onSite = false
            var latest: (id: String, at: Int64)?
            for id in ids {
                heldBefore = try heldBefore || (Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM lease WHERE number = ? AND visitor_id = ? AND started_at < ?)
                    """), arguments: [number.e164, id, micros]) ?? false)
                onSite = try onSite || (Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM session WHERE visitor_id = ? AND last_activity_at >= ? AND started_at <= ?)
                    """), arguments: [id, (t - onSiteWithin).microsecondsSinceEpoch, micros]) ?? false)
                if let row = try GRDB.Row.fetchOne(db.cachedStatement(sql: """
                    SELECT id, started_at FROM session WHERE visitor_id = ? AND started_at <= ? ORDER BY started_at DESC LIMIT 1
                    """), arguments: [id, micros]) {
                    let candidate = (id: row["id"] as String, at: row["started_at"] as Int64)
                    if latest.map({ candidate.at > $0.at }) ?? true { latest = candidate }
                }
            }
            return CallerVisitor(visitorID: visitor, allVisitorIDs: Set(ids), heldNumberBefore: heldBefore, onSiteNow: onSite, latestSession: latest?.id)
        }
    }

    /// The sessions of a person (all their visitor ids) up to `t`, oldest first: the journey of a lead.
    public func journey(of visitors: [VisitorID], upTo t: Timestamp, limit: Int = 200) async throws(StoreUnavailable) -> [SessionRecord] {
        try read { db in
            var sessions: [SessionRecord] = []
            for visitor in Set(visitors) {
                sessions += try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                    SELECT * FROM session WHERE visitor_id = ? AND started_at <= ? ORDER BY started_at DESC LIMIT ?
                    """), arguments: [visitor, t.microsecondsSinceEpoch, limit]).map(Rows.session)
            }
            return Array(sessions.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }.suffix(limit))
        }
    }

    static func row(_ row: GRDB.Row) -> Row {
        Row(callID: row["call_id"], revision: row["revision"], siteID: row["site_id"], visitorID: row["visitor_id"],
            caller: row["caller"], startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]), isLead: row["is_lead"],
            matchKind: row["match_kind"], dealerID: row["dealer_id"], payload: row["payload"])
    }

    /// On the caller's thread: a call's match takes several reads, and a hop to a reader queue and back
    /// cost more than each of them (~0.3 ms on an idle machine).
    func read<T>(_ body: (Database) throws -> T) throws(StoreUnavailable) -> T {
        try database.readSnapshotNow("cannot read leads", body)
    }
}
