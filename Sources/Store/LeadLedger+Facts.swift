import CallTrackCore
import GRDB

/// The lead path: one call change is read, decided and written in one transaction on the store's writer thread
/// (`apply`), never on the event loop that awaits it. Matching is pure (`CallMatcher`) and runs inside the read,
/// because who the person is, and so which journey and open leads to read, depends on its result; the decision is
/// pure (`LeadDecision`); the store only reads and applies.
extension LeadLedger {
    public typealias Applied = AppliedCallChange

    /// Reads what this change of `call` needs (`facts`), decides it (`LeadDecision.decide`), and writes the call, and
    /// its lead with the caller's binding, the repeats decided again and their outbox entries: one transaction,
    /// shared (group commit) with the other changes and leases that arrive together, so a burst of calls costs one
    /// fsync, not one per change. The facts are read inside the write transaction: one hop to the store's thread
    /// and back per change, and nothing can change between the read and the write.
    /// `answeringDealer` is the dealer whose dial target answered the call, if one did: the lead is credited to it.
    public func apply(
        _ call: CallRecord, opening: LeadOpening?, rules: LeadRules, answeringDealer: DealerID? = nil, at now: Timestamp
    ) async throws(StoreUnavailable) -> Applied {
        let topic = outbox.topic
        let sticky = self.sticky
        let (applied, id): (Applied, Int64?)
        do {
            (applied, id) = try await committer.perform { db -> (Applied, Int64?) in
                let facts = try Self.facts(for: call, opening: opening, rules: rules, db)
                let decision = LeadDecision.decide(call, facts: facts, rules: rules, answeringDealer: answeringDealer, at: now)
                var newest: Int64?
                switch decision {
                case .handled: break
                case .callOnly: try StateWriter.upsert(call, db)
                case .store(let change):
                    newest = try Self.write(change.lead, callRevision: call.revision, call: call, binding: change.binding,
                                            redecided: change.redecided, topic: topic, sticky: sticky, at: now, db)
                    try DealerStatisticsStore.add(change.tally, db)
                }
                return (Applied(facts: facts, decision: decision), newest)
            }
        } catch {
            throw StoreUnavailable("cannot store the lead: \(SQLiteStore.explain(error))")
        }
        if let id { outbox.ring(newest: id) }
        return applied
    }

    /// What the store holds for this change of `call`: its stored lead; for a call without a readable lead, when
    /// `opening` says the number is tracked, its match and what opening the lead needs; for a lead that turns junk
    /// with this change, its repeats and the leads near them. A change the stored lead is already past reads
    /// nothing more.
    static func facts(for call: CallRecord, opening: LeadOpening?, rules: LeadRules, _ db: Database) throws -> CallFacts {
        var facts = CallFacts(stored: try stored(call.id, db))
        if let stored = facts.stored, stored.callRevision >= call.revision { return facts }
        if let previous = facts.stored?.lead {
            if LeadDecision.turnsJunk(previous, with: call, rules: rules) {
                facts.repeats = try repeatFacts(of: call.id, rules: rules, db)
            }
        } else if let opening {
            facts.opening = try open(call, opening, rules: rules, db)
        }
        return facts
    }

    /// The repeats of `junked` and the leads near them, for deciding them again without a change of `junked`
    /// (the start-up repair, see `junkWithRepeats`).
    public func repeatFacts(of junked: String, rules: LeadRules) async throws(StoreUnavailable) -> RepeatFacts {
        try await read { db in try Self.repeatFacts(of: junked, rules: rules, db) }
    }

    static func stored(_ callID: String, _ db: Database) throws -> StoredLead? {
        try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM lead WHERE call_id = ?"), arguments: [callID]).map(Self.row)
    }

    /// Matches `call` and reads what opening its lead needs: the leases on the number, the caller's visitor, the
    /// person behind the match (the survivor once the caller is bound), their journey, and their open leads.
    static func open(_ call: CallRecord, _ opening: LeadOpening, rules: LeadRules, _ db: Database) throws -> CallFacts.Opened {
        let t = call.startedAt
        var facts = opening.facts
        if opening.pooled { facts.leases = try SQLiteStore.leases(on: opening.number, from: t - facts.cooldown, to: t, db) }
        if let caller = call.caller {
            facts.callerVisitor = try callerVisitor(caller, number: opening.number, at: t, onSiteWithin: rules.onSiteWindow, db)
        }
        let match = CallMatcher.match(facts.matchQuery(for: call, number: opening.number))
        var personIDs: [VisitorID] = facts.callerVisitor.map { Array($0.allVisitorIDs) } ?? []
        if let visitor = match.visitorID {
            let survivor = try survivorAfterBinding(call.caller, to: visitor, db)
            let ids = try person(of: survivor, db).ids + person(of: visitor, db).ids
            facts.journey = try journey(of: ids, upTo: t, db)
            facts.person = survivor
            personIDs += ids
        }
        if let route = opening.route {
            facts.route(route(try stickyDealer(visitors: personIDs, caller: call.caller, before: t, db)))
        }
        let search = rules.repeatSearch(at: t, site: facts.siteID, dealer: facts.dealerID)
        facts.openLeads = try openLeads(visitor: facts.person, caller: call.caller, search: search, db).map(\.leadCall)
        return CallFacts.Opened(number: opening.number, match: match, facts: facts)
    }

    /// The dealer who handled this person before: the dealer of their latest earlier call, found by any of their
    /// visitor ids (the identity graph: every device and number merged into the person) or by the caller's number.
    static func stickyDealer(visitors: [VisitorID], caller: PhoneNumber?, before t: Timestamp, _ db: Database) throws -> DealerID? {
        try latestDealer(visitors: visitors, caller: caller?.e164, before: t.microsecondsSinceEpoch, db)?.dealer
    }

    /// The latest lead with a dealer begun before `micros`, of these visitor ids or of the caller `e164`.
    static func latestDealer(visitors: [VisitorID], caller e164: String?, before micros: Int64, _ db: Database) throws -> StickyDealers.Latest? {
        var latest: StickyDealers.Latest?
        func consider(_ row: GRDB.Row?) {
            guard let row, let dealer = row["dealer_id"] as String? else { return }
            let at = Timestamp(microsecondsSinceEpoch: row["started_at"])
            if latest.map({ at > $0.at }) ?? true { latest = StickyDealers.Latest(dealer: dealer, at: at) }
        }
        for visitor in Set(visitors) {
            consider(try GRDB.Row.fetchOne(db.cachedStatement(sql: stickyByVisitorSQL), arguments: [visitor, micros]))
        }
        if let e164 {
            consider(try GRDB.Row.fetchOne(db.cachedStatement(sql: stickyByCallerSQL), arguments: [e164, micros]))
        }
        return latest
    }

    /// The sticky dealer for a caller known only by number (a FastAGI request): the person the number is bound
    /// to, with every visitor id merged into them, and the number itself. Read on the reader pool.
    public func stickyDealer(caller: PhoneNumber, before t: Timestamp) async throws(StoreUnavailable) -> DealerID? {
        try await read { db in try Self.latestDealer(caller: caller.e164, before: t.microsecondsSinceEpoch, db)?.dealer }
    }

    /// `stickyDealer(caller:before:)`'s read, by the number's E.164 spelling.
    static func latestDealer(caller e164: String, before micros: Int64, _ db: Database) throws -> StickyDealers.Latest? {
        var visitors: [VisitorID] = []
        if let bound = try VisitorIdentity.owner(ofPhone: e164, db) {
            visitors = try Self.person(of: bound, db).ids
        }
        return try latestDealer(visitors: visitors, caller: e164, before: micros, db)
    }

    static let stickyByVisitorSQL = """
        SELECT dealer_id, started_at FROM lead WHERE visitor_id = ? AND started_at < ? AND dealer_id IS NOT NULL
        ORDER BY started_at DESC LIMIT 1
        """
    static let stickyByCallerSQL = """
        SELECT dealer_id, started_at FROM lead WHERE caller = ? AND started_at < ? AND dealer_id IS NOT NULL
        ORDER BY started_at DESC LIMIT 1
        """

    /// The calls that repeat `junked`, and for each the leads it may repeat instead.
    static func repeatFacts(of junked: String, rules: LeadRules, _ db: Database) throws -> RepeatFacts {
        let repeats = try GRDB.Row.fetchAll(db.cachedStatement(sql: repeatsSQL), arguments: [junked]).map(Self.row)
        var near: [String: LeadCall] = [:]
        for row in repeats {
            let call = row.leadCall
            let search = rules.repeatSearch(at: call.startedAt, site: call.siteID, dealer: call.dealerID)
            for lead in try openLeads(visitor: call.person, caller: call.caller, search: search, excluding: junked, db) {
                near[lead.callID] = lead.leadCall
            }
        }
        return RepeatFacts(junked: junked, repeats: repeats, leads: near.values.sorted { $0.id < $1.id })
    }

    static let repeatsSQL = "SELECT * FROM lead WHERE repeat_of = ?"

    /// The leads a call may repeat (`LeadRules.repeatTarget` picks): of this person and of this caller, the latest
    /// lead (not junk, not a repeat) that `search` admits, at most one each. `excluding` is a lead being judged junk.
    static func openLeads(
        visitor: VisitorID?, caller: PhoneNumber?, search: LeadRules.RepeatSearch, excluding: String? = nil, _ db: Database
    ) throws -> [StoredLead] {
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

    /// What matching needs to know about the visitor a caller's phone is bound to.
    static func callerVisitor(_ phone: PhoneNumber, number: PhoneNumber, at t: Timestamp, onSiteWithin: Duration, _ db: Database) throws -> CallerVisitor? {
        guard let bound = try VisitorIdentity.owner(of: VisitorIdentifier(phone: phone), db) else { return nil }
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

    /// The sessions of a person (all their visitor ids) up to `t`, oldest first: the journey of a lead.
    static func journey(of visitors: [VisitorID], upTo t: Timestamp, limit: Int = 200, _ db: Database) throws -> [SessionRecord] {
        var sessions: [SessionRecord] = []
        for visitor in Set(visitors) {
            sessions += try GRDB.Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM session WHERE visitor_id = ? AND started_at <= ? ORDER BY started_at DESC LIMIT ?
                """), arguments: [visitor, t.microsecondsSinceEpoch, limit]).map(Rows.session)
        }
        return Array(sessions.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }.suffix(limit))
    }
}
