import CallTrackCore
import Foundation
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

    /// One lead as stored: the call revision it was brought up to, its verdict as the repeat rule reads it, and the lead.
    public struct StoredLead: Sendable, Hashable {
        public var callID: String
        /// The revision of the call the lead was last brought up to (a decision again raises the lead's own
        /// revision, not this one): a call event at or below it has been handled.
        public var callRevision: Int
        /// The call as the repeat rule sees it, from the row's columns.
        public var leadCall: LeadCall
        /// The lead as JSON (`Lead`'s encoding), as `calltrackd leads --json` shows it.
        public var payload: String
        /// The lead; nil when an older daemon stored it in a format this one does not read.
        public var lead: Lead?
    }

    /// A lead decided again because the lead it repeated turned junk, and the revision it was decided from. It is
    /// written only over that revision; a lead changed meanwhile fails the whole transaction.
    public struct Redecided: Sendable, Hashable {
        public var lead: Lead
        public var decidedFrom: Int64

        public init(lead: Lead, decidedFrom: Int64) {
            self.lead = lead
            self.decidedFrom = decidedFrom
        }
    }

    /// A re-decided lead changed between its read and its write.
    struct LeadChangedMeanwhile: Error, CustomStringConvertible {
        var callID: String
        var description: String { "lead \(callID) changed while its repeat was decided again" }
    }

    /// Stores the call and its lead, brought up to `callRevision` of the call, binds the caller's phone to the
    /// visitor, and queues the lead for delivery — one transaction, one fsync. A call revision at or below the
    /// stored one is ignored (replays are harmless). `redecided` are the repeats of this lead decided again with
    /// it (it turned junk): stored and queued in the same transaction, after it.
    public func record(
        _ lead: Lead, callRevision: Int, call: CallRecord? = nil, binding: (phone: PhoneNumber, visitor: VisitorID)?,
        redecided: [Redecided] = [], at now: Timestamp
    ) async throws(StoreUnavailable) {
        let topic = outbox.topic
        let payload = Self.json(lead)
        let redecided = redecided.map { ($0, Self.json($0.lead)) }
        let id: Int64?
        do {
            id = try await database.write { db -> Int64? in
                if let call { try StateWriter.upsert(call, db) }
                let stored = try Int.fetchOne(db.cachedStatement(sql: "SELECT revision FROM lead WHERE call_id = ?"), arguments: [lead.callID])
                if let stored, stored >= callRevision { return nil }
                try db.execute(sql: """
                    INSERT INTO lead (call_id, revision, site_id, visitor_id, caller, started_at, is_lead, match_kind, dealer_id,
                                      junk_reason, repeat_of, payload, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (call_id) DO UPDATE SET revision = excluded.revision, visitor_id = excluded.visitor_id,
                        caller = excluded.caller, is_lead = excluded.is_lead, match_kind = excluded.match_kind,
                        dealer_id = excluded.dealer_id, junk_reason = excluded.junk_reason, repeat_of = excluded.repeat_of,
                        payload = excluded.payload, updated_at = excluded.updated_at
                    """, arguments: [lead.callID, callRevision, lead.siteID, lead.visitorID, lead.callerText,
                                     lead.startedAt.microsecondsSinceEpoch, lead.isLead, lead.match.kind.rawValue, lead.dealerID,
                                     lead.junkReason?.rawValue, lead.repeatOf, payload, now.microsecondsSinceEpoch])
                if let binding { try Self.bind(binding.phone, to: binding.visitor, call: lead.callID, at: now, db) }
                let newest = try Outbox.insert(topic: topic, key: lead.callID, payload: payload, at: now, db)
                return try Self.write(redecided, topic: topic, at: now, db) ?? newest
            }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
    }

    /// Stores leads decided again without a change of the junk lead they repeated (the start-up repair, see
    /// `junkWithRepeats`), queued for delivery in the same transaction.
    public func record(redecided: [Redecided], at now: Timestamp) async throws(StoreUnavailable) {
        guard !redecided.isEmpty else { return }
        let topic = outbox.topic
        let redecided = redecided.map { ($0, Self.json($0.lead)) }
        let id: Int64?
        do {
            id = try await database.write { db in try Self.write(redecided, topic: topic, at: now, db) }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
    }

    /// Writes each re-decided lead over the revision it was decided from and queues it; returns the newest outbox id.
    static func write(_ redecided: [(Redecided, String)], topic: String, at now: Timestamp, _ db: Database) throws -> Int64? {
        var newest: Int64?
        for (decision, payload) in redecided {
            let changed = decision.lead
            try db.execute(sql: """
                UPDATE lead SET is_lead = ?, junk_reason = ?, repeat_of = ?, payload = ?, updated_at = ?
                WHERE call_id = ? AND json_extract(payload, '$.revision') = ?
                """, arguments: [changed.isLead, changed.junkReason?.rawValue, changed.repeatOf, payload,
                                 now.microsecondsSinceEpoch, changed.callID, decision.decidedFrom])
            guard db.changesCount == 1 else { throw LeadChangedMeanwhile(callID: changed.callID) }
            newest = try Outbox.insert(topic: topic, key: changed.callID, payload: payload, at: now, db)
        }
        return newest
    }

    /// A lead's JSON, as stored and queued.
    static func json(_ lead: Lead) -> String {
        String(decoding: (try? encoder.encode(lead)) ?? Data(), as: UTF8.self)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Junk calls that some call still repeats. A `repeat_of` must name a lead: a store that has such repeats
    /// (written before repeats were decided again) is repaired at start from this list.
    public func junkWithRepeats(limit: Int = 10_000) async throws(StoreUnavailable) -> [String] {
        try read { db in
            try String.fetchAll(db.cachedStatement(sql: Self.junkWithRepeatsSQL), arguments: [limit])
        }
    }

    static let junkWithRepeatsSQL = """
        SELECT DISTINCT r.repeat_of FROM lead r JOIN lead l ON l.call_id = r.repeat_of
        WHERE r.repeat_of IS NOT NULL AND l.is_lead = 0 LIMIT ?
        """
    static let repeatsSQL = "SELECT * FROM lead WHERE repeat_of = ?"

    /// Binds a caller's phone to a visitor. A phone already bound to another visitor means one person:
    /// the visitor the phone was bound to first survives, the other is merged into it, and the merge is recorded.
    static func bind(_ phone: PhoneNumber, to visitor: VisitorID, call: String, at now: Timestamp, _ db: Database) throws {
        try VisitorIdentity.link(VisitorIdentifier(phone: phone), to: visitor,
                                 by: "a call matched to the merged visitor's session",
                                 call: call, at: now, db)
    }

    public func lead(_ callID: String) async throws(StoreUnavailable) -> StoredLead? {
        // Asked for every call event: one indexed row, read on the caller's thread.
        try database.readNow("cannot read leads") { db in
            try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM lead WHERE call_id = ?"), arguments: [callID]).map(Self.row)
        }
    }

    /// Leads, newest call first.
    public func leads(limit: Int) async throws(StoreUnavailable) -> [StoredLead] {
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

    /// The calls that repeat `callID`'s lead.
    public func repeats(of callID: String) async throws(StoreUnavailable) -> [StoredLead] {
        try read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: Self.repeatsSQL), arguments: [callID]).map(Self.row)
        }
    }

    /// The leads a call may repeat (`LeadRules.repeatTarget` picks): of this person and of this caller, the latest
    /// lead (not junk, not a repeat) that `search` admits, at most one each. `excluding` is a lead being judged junk.
    public func openLeads(
        visitor: VisitorID?, caller: PhoneNumber?, search: LeadRules.RepeatSearch, excluding: String? = nil
    ) async throws(StoreUnavailable) -> [StoredLead] {
        try read { db in
            let (partition, value): (String, String?) = switch search.partition {
            case .all: ("1", nil)
            case .site(let site): ("site_id = ?", site)
            case .dealer(let dealer): ("dealer_id IS ?", dealer)
            }
            let scoped = search.partition == .all ? [] : [value as (any DatabaseValueConvertible)?]
            // Two indexed lookups (by visitor, by caller): an OR across them would scan every lead in the window.
            var found: [StoredLead] = []
            for (column, key) in [("visitor_id", visitor), ("caller", caller?.e164)] {
                guard let key else { continue }
                let bounds: [(any DatabaseValueConvertible)?] =
                    [key, search.since.microsecondsSinceEpoch, search.before.microsecondsSinceEpoch, excluding]
                let row = try GRDB.Row.fetchOne(db, sql: """
                    SELECT * FROM lead WHERE \(column) = ? AND started_at >= ? AND started_at < ?
                      AND is_lead = 1 AND call_id IS NOT ? AND \(partition)
                    ORDER BY started_at DESC LIMIT 1
                    """, arguments: StatementArguments(bounds + scoped))
                if let row = row.map(Self.row), !found.contains(where: { $0.callID == row.callID }) { found.append(row) }
            }
            return found
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

    static func row(_ row: GRDB.Row) -> StoredLead {
        let callID: String = row["call_id"]
        let caller: String? = row["caller"]
        let payload: String = row["payload"]
        let call = LeadCall(
            id: callID, startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]), person: row["visitor_id"],
            caller: caller.flatMap { try? PhoneNumber.e164($0) }, siteID: row["site_id"], dealerID: row["dealer_id"],
            junkReason: (row["junk_reason"] as String?).flatMap(JunkReason.init(rawValue:)), repeatOf: row["repeat_of"])
        return StoredLead(callID: callID, callRevision: row["revision"], leadCall: call, payload: payload,
                          lead: try? decoder.decode(Lead.self, from: Data(payload.utf8)))
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// On the caller's thread: a call's match takes several reads, and a hop to a reader queue and back
    /// cost more than each of them (~0.3 ms on an idle machine).
    func read<T>(_ body: (Database) throws -> T) throws(StoreUnavailable) -> T {
        try database.readSnapshotNow("cannot read leads", body)
    }
}
