import CallTrackCore
import Foundation
import GRDB

/// The leads as calltrackd keeps them locally, and the identity lookups matching needs.
///
/// A lead change is written with its outbox entry (and the caller's phone binding) in one
/// transaction: a lead is never stored without being queued for PostgreSQL, nor queued twice.
public final class LeadLedger: Sendable {
    let database: DatabasePool
    /// Lead changes are written in the store's group-commit transactions (see `GroupCommitter.perform`).
    let committer: GroupCommitter
    public let outbox: Outbox
    /// The store's sticky dealers: every write here that may change a caller's names it (see `StickyDealerIndex`).
    let sticky: StickyDealerIndex

    public init(store: SQLiteStore, outbox: Outbox) {
        database = store.database
        committer = store.committer
        sticky = store.stickyDealers
        self.outbox = outbox
    }

    public typealias StoredLead = CallTrackCore.StoredLead
    public typealias Redecided = RedecidedLead

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
        let sticky = self.sticky
        let id: Int64?
        do {
            id = try await committer.perform { db -> Int64? in
                try Self.write(lead, callRevision: callRevision, call: call, binding: binding, redecided: redecided, topic: topic,
                               sticky: sticky, at: now, db)
            }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
    }

    /// `record`'s transaction; returns the newest outbox id, nil when the stored lead is as new.
    static func write(
        _ lead: Lead, callRevision: Int, call: CallRecord?, binding: (phone: PhoneNumber, visitor: VisitorID)?,
        redecided: [Redecided], topic: String, sticky: StickyDealerIndex, at now: Timestamp, _ db: Database
    ) throws -> Int64? {
        if let call { try StateWriter.upsert(call, db) }
        let stored = try GRDB.Row.fetchOne(db.cachedStatement(sql: """
            SELECT call_revision, dealer_id, caller, visitor_id, started_at FROM lead WHERE call_id = ?
            """), arguments: [lead.callID])
        if let stored, stored[0] as Int >= callRevision { return nil }
        try db.cachedStatement(sql: Self.upsertSQL).execute(arguments: Self.arguments(lead, callRevision: callRevision, at: now))
        touchSticky(lead, replacing: stored.map(StickyFields.init), sticky, db)
        if let binding { try Self.bind(binding.phone, to: binding.visitor, call: lead.callID, at: now, sticky: sticky, db) }
        let newest = try Outbox.insert(topic: topic, key: lead.callID, revision: lead.revision, at: now, db)
        return try Self.write(redecided, topic: topic, at: now, db) ?? newest
    }

    /// Stores leads decided again without a change of the junk lead they repeated (the start-up repair, see
    /// `junkWithRepeats`), queued for delivery in the same transaction.
    public func record(redecided: [Redecided], at now: Timestamp) async throws(StoreUnavailable) {
        guard !redecided.isEmpty else { return }
        let topic = outbox.topic
        let id: Int64?
        do {
            id = try await database.write { db in try Self.write(redecided, topic: topic, at: now, db) }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
    }

    /// Writes each re-decided lead over the revision it was decided from and queues it; returns the newest outbox id.
    static func write(_ redecided: [Redecided], topic: String, at now: Timestamp, _ db: Database) throws -> Int64? {
        var newest: Int64?
        for decision in redecided {
            let changed = decision.lead
            try db.execute(sql: """
                UPDATE lead SET revision = ?, is_lead = ?, junk_reason = ?, repeat_of = ?, changed_at = ?, updated_at = ?
                WHERE call_id = ? AND revision = ?
                """, arguments: [changed.revision, changed.isLead, changed.junkReason?.rawValue, changed.repeatOf,
                                 changed.changedAt.microsecondsSinceEpoch, now.microsecondsSinceEpoch, changed.callID,
                                 decision.decidedFrom])
            guard db.changesCount == 1 else { throw LeadChangedMeanwhile(callID: changed.callID) }
            newest = try Outbox.insert(topic: topic, key: changed.callID, revision: changed.revision, at: now, db)
        }
        return newest
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Stores leads as they are, without their calls (an import, a test, a benchmark), and queues each for
    /// delivery — one transaction. A lead whose stored revision is as new is left as it is. Returns the outbox
    /// ids, in order.
    @discardableResult
    public func store(_ leads: [Lead], at now: Timestamp) async throws(StoreUnavailable) -> [Int64] {
        guard !leads.isEmpty else { return [] }
        let topic = outbox.topic
        let sticky = self.sticky
        let ids: [Int64]
        do {
            ids = try await database.write { db in
                var ids: [Int64] = []
                for lead in leads {
                    let stored = try GRDB.Row.fetchOne(db.cachedStatement(sql: """
                        SELECT revision, dealer_id, caller, visitor_id, started_at FROM lead WHERE call_id = ?
                        """), arguments: [lead.callID])
                    if let stored, stored[0] as Int64 >= lead.revision { continue }
                    try db.cachedStatement(sql: Self.upsertSQL).execute(arguments: Self.arguments(lead, callRevision: Int(lead.revision), at: now))
                    Self.touchSticky(lead, replacing: stored.map(StickyFields.init), sticky, db)
                    ids.append(try Outbox.insert(topic: topic, key: lead.callID, revision: lead.revision, at: now, db))
                }
                return ids
            }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let last = ids.last { outbox.ring(newest: last) }
        return ids
    }

    /// The stored leads of these calls, by call id (calls without a lead are left out). Read off the caller's
    /// thread: the delivery asks for a whole batch.
    public func leads(_ callIDs: [String]) async throws(StoreUnavailable) -> [String: StoredLead] {
        guard !callIDs.isEmpty else { return [:] }
        let ids = Array(Set(callIDs))
        do {
            return try await database.read { db in
                var found: [String: StoredLead] = [:]
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
                    let marks = chunk.map { _ in "?" }.joined(separator: ", ")
                    for row in try GRDB.Row.fetchAll(db, sql: "SELECT * FROM lead WHERE call_id IN (\(marks))", arguments: StatementArguments(Array(chunk))) {
                        let stored = Self.row(row)
                        found[stored.callID] = stored
                    }
                }
                return found
            }
        } catch {
            throw StoreUnavailable("cannot read leads: \(SQLiteStore.explain(error))")
        }
    }

    /// Junk calls that some call still repeats. A `repeat_of` must name a lead: a store that has such repeats
    /// (written before repeats were decided again) is repaired at start from this list.
    public func junkWithRepeats(limit: Int = 10_000) async throws(StoreUnavailable) -> [String] {
        try await read { db in
            try String.fetchAll(db.cachedStatement(sql: Self.junkWithRepeatsSQL), arguments: [limit])
        }
    }

    static let junkWithRepeatsSQL = """
        SELECT DISTINCT r.repeat_of FROM lead r JOIN lead l ON l.call_id = r.repeat_of
        WHERE r.repeat_of IS NOT NULL AND l.is_lead = 0 LIMIT ?
        """

    /// Binds a caller's phone to a visitor. A phone already bound to another visitor means one person:
    /// the visitor the phone was bound to first survives, the other is merged into it, and the merge is recorded.
    static func bind(_ phone: PhoneNumber, to visitor: VisitorID, call: String, at now: Timestamp, sticky: StickyDealerIndex, _ db: Database) throws {
        try VisitorIdentity.link(VisitorIdentifier(phone: phone), to: visitor,
                                 by: "a call matched to the merged visitor's session",
                                 call: call, at: now, sticky: sticky, db)
    }

    /// The stored lead of a call.
    public func lead(_ callID: String) async throws(StoreUnavailable) -> StoredLead? {
        try await read { db in try Self.stored(callID, db) }
    }

    /// Leads, newest call first.
    public func leads(limit: Int) async throws(StoreUnavailable) -> [StoredLead] {
        try await read { db in try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM lead ORDER BY started_at DESC LIMIT ?"), arguments: [limit]).map(Self.row) }
    }

    /// Calls whose lead is missing or behind the call (the daemon stopped between storing a call and its lead), in
    /// start order, from after `after` (the last call of the previous page). Calls to numbers no site tracks never get
    /// a lead and are listed too: the caller pages past them.
    public func callsBehind(after: CallRecord? = nil, limit: Int = 10_000) async throws(StoreUnavailable) -> [CallRecord] {
        try await read { db in
            try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                SELECT call.* FROM call LEFT JOIN lead ON lead.call_id = call.id
                WHERE (lead.call_id IS NULL OR lead.call_revision < call.revision) AND (call.started_at, call.id) > (?, ?)
                ORDER BY call.started_at, call.id LIMIT ?
                """), arguments: [after?.startedAt.microsecondsSinceEpoch ?? Int64.min, after?.id ?? "", limit]).map(Rows.call)
        }
    }

    static func row(_ row: GRDB.Row) -> StoredLead {
        let callID: String = row[Column.callID]
        let lead = try? Self.lead(row)
        let call = lead?.leadCall ?? LeadCall(
            id: callID, startedAt: Timestamp(microsecondsSinceEpoch: row[Column.startedAt]), person: row[Column.visitorID],
            caller: (row[Column.caller] as String?).flatMap { try? PhoneNumber.e164($0) }, siteID: row[Column.siteID],
            dealerID: row[Column.dealerID], junkReason: (row[Column.junkReason] as String?).flatMap(JunkReason.init(rawValue:)),
            repeatOf: row[Column.repeatOf])
        return StoredLead(callID: callID, callRevision: row[Column.callRevision], leadCall: call, lead: lead)
    }

    /// A `lead` row's columns, in `upsertSQL`'s order.
    enum Column: String, CaseIterable, ColumnExpression {
        case callID = "call_id", callRevision = "call_revision", revision, siteID = "site_id", trackingNumber = "tracking_number"
        case caller, callerRaw = "caller_raw", callerName = "caller_name", startedAt = "started_at", answeredAt = "answered_at"
        case endedAt = "ended_at", disposition, answeredBy = "answered_by", talkSeconds = "talk_seconds", ringSeconds = "ring_seconds"
        case matchKind = "match_kind", matchConfidence = "match_confidence", candidateCount = "candidate_count"
        case matchRule = "match_rule", matchSessionID = "match_session_id", matchVisitorID = "match_visitor_id"
        case matchCandidates = "match_candidates", staticSource = "static_source", visitorID = "visitor_id"
        case userAgent = "user_agent", firstTouch = "first_touch", lastTouch = "last_touch", journey, dealerID = "dealer_id"
        case junkReason = "junk_reason", repeatOf = "repeat_of", isLead = "is_lead", changedAt = "changed_at", updatedAt = "updated_at"
        case dealerRule = "dealer_rule", dealerReason = "dealer_reason", outcomes, calledBackAt = "called_back_at"
    }

    static let upsertSQL: String = {
        let names = Column.allCases.map(\.rawValue)
        return """
            INSERT INTO lead (\(names.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (call_id) DO UPDATE SET \(names.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """
    }()

    /// The column values of `lead`, in `Column` order.
    static func arguments(_ lead: Lead, callRevision: Int, at now: Timestamp) -> StatementArguments {
        let m = lead.match
        let values: [(any DatabaseValueConvertible)?] = [
            lead.callID, callRevision, lead.revision, lead.siteID, lead.trackingNumber.e164,
            lead.caller?.e164, lead.callerRaw, lead.callerName, lead.startedAt.microsecondsSinceEpoch, lead.answeredAt?.microsecondsSinceEpoch,
            lead.endedAt?.microsecondsSinceEpoch, lead.disposition.rawValue, lead.answeredBy, lead.talkSeconds, lead.ringSeconds,
            m.kind.rawValue, m.confidence, m.candidateCount,
            m.rule, m.sessionID, m.visitorID,
            json(m.candidates), m.staticSource.map { json($0) }, lead.visitorID,
            lead.userAgent, lead.firstTouch.map { json($0) }, lead.lastTouch.map { json($0) }, json(lead.journey), lead.dealerID,
            lead.junkReason?.rawValue, lead.repeatOf, lead.isLead, lead.changedAt.microsecondsSinceEpoch, now.microsecondsSinceEpoch,
            lead.dealerRule?.rawValue, lead.dealerReason, json(lead.outcomes), lead.calledBackAt?.microsecondsSinceEpoch,
        ]
        return StatementArguments(values)
    }

    /// The lead a row holds; throws for a row the schema's upgrade could not fill from an unreadable payload.
    static func lead(_ row: GRDB.Row) throws -> Lead {
        func time(_ column: Column) -> Timestamp? { (row[column] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)) }
        func decoded<T: Decodable>(_ type: T.Type, _ column: Column) throws -> T? {
            try (row[column] as String?).map { try decoder.decode(type, from: Data($0.utf8)) }
        }
        struct Unreadable: Error {}
        guard let kind = MatchKind(rawValue: row[Column.matchKind]), let disposition = Lead.Disposition(rawValue: row[Column.disposition])
        else { throw Unreadable() }
        let match = Match(
            kind: kind, sessionID: row[Column.matchSessionID], visitorID: row[Column.matchVisitorID],
            confidence: row[Column.matchConfidence], candidateCount: row[Column.candidateCount],
            candidates: try decoded([MatchCandidate].self, .matchCandidates) ?? [], rule: row[Column.matchRule],
            staticSource: try decoded(MarketingSource.self, .staticSource))
        return Lead(
            callID: row[Column.callID], revision: row[Column.revision], siteID: row[Column.siteID],
            trackingNumber: try PhoneNumber.e164(row[Column.trackingNumber]),
            caller: try (row[Column.caller] as String?).map { try PhoneNumber.e164($0) }, callerRaw: row[Column.callerRaw],
            callerName: row[Column.callerName], startedAt: time(.startedAt)!, answeredAt: time(.answeredAt), endedAt: time(.endedAt),
            disposition: disposition, answeredBy: row[Column.answeredBy], talkSeconds: row[Column.talkSeconds],
            ringSeconds: row[Column.ringSeconds], match: match, visitorID: row[Column.visitorID], userAgent: row[Column.userAgent],
            firstTouch: try decoded(Touch.self, .firstTouch), lastTouch: try decoded(Touch.self, .lastTouch),
            journey: try decoded([Touch].self, .journey) ?? [], dealerID: row[Column.dealerID],
            dealerRule: (row[Column.dealerRule] as String?).flatMap(RoutingDecision.Rule.init(rawValue:)),
            dealerReason: row[Column.dealerReason],
            junkReason: try (row[Column.junkReason] as String?).map { guard let reason = JunkReason(rawValue: $0) else { throw Unreadable() }; return reason },
            repeatOf: row[Column.repeatOf], calledBackAt: time(.calledBackAt),
            outcomes: try decoded([DealOutcome].self, .outcomes) ?? [], changedAt: time(.changedAt)!)
    }

    /// A lead's JSON, as `calltrackd leads --json` and `GET /v1/admin/leads` show it.
    public static func json(_ lead: Lead) -> String { json(lead as any Encodable) }

    /// JSON of a column value (touches, the journey, candidates, a source): `Codable`, as PostgreSQL gets it too.
    static func json(_ value: any Encodable) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// On a reader connection's queue, never on the calling thread: the lead path is called from the event
    /// loops that serve HTTP, which only await the read.
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.read(body) } catch {
            throw StoreUnavailable("cannot read leads: \(SQLiteStore.explain(error))")
        }
    }
}
