import CallTrackCore
import GRDB

/// Forgetting a person (SPEC §Privacy, GDPR art. 17 / 152-FZ art. 21): one transaction erases their identifiers,
/// the personal fields of their visits, their caller numbers and names, their visitor ids and visit ids wherever
/// they are written (sessions, leases, calls, leads and their match candidates and journeys, identifiers, merges,
/// the outbox), and keeps the anonymous remainder: every row still counts in statistics and attribution.
///
/// Leads change as new revisions queued in the outbox, and an `erase:<id>` entry follows them, so PostgreSQL (and
/// every destination) forgets the same person in order with the other changes. Which ids make up the person is the
/// identity graph's answer (`VisitorIdentity`); what of a lead is theirs is `ErasedPerson`'s.
extension LeadLedger {
    /// Erases the person; `.unknown` when nothing is known of them (a visitor never seen, a phone that never called),
    /// `.callInProgress` while a call from one of their phones has not ended.
    public func erase(_ target: ErasureTarget, by: String, at now: Timestamp) async throws(StoreUnavailable) -> ErasureOutcome {
        let topic = outbox.topic
        let sticky = self.sticky
        do {
            let (outcome, newest) = try await database.write { db -> (ErasureOutcome, Int64?) in
                guard let (person, named) = try Self.person(of: target, db) else { return (.unknown, nil) }
                if let since = try Self.callInProgress(from: person.phones, at: now, db) { return (.callInProgress(since: since), nil) }
                let (record, newest) = try Self.erase(person, named: named, by: by, topic: topic, sticky: sticky, at: now, db)
                return (.erased(record), newest)
            }
            if let newest { outbox.ring(newest: newest) }
            return outcome
        } catch {
            throw StoreUnavailable("cannot erase the person: \(SQLiteStore.explain(error))")
        }
    }

    public func visitors(of target: ErasureTarget) async throws(StoreUnavailable) -> Set<VisitorID> {
        try await read { db in try Self.person(of: target, db)?.0.visitors ?? [] }
    }

    /// When the earliest call from `phones` that has not ended began, within `ErasureOutcome.callLimit`.
    static func callInProgress(from phones: Set<PhoneNumber>, at now: Timestamp, _ db: Database) throws -> Timestamp? {
        let after = (now - ErasureOutcome.callLimit).microsecondsSinceEpoch
        return try phones.compactMap { phone in
            try Int64.fetchOne(db, sql: "SELECT min(started_at) FROM call WHERE caller = ? AND ended_at IS NULL AND started_at > ?",
                               arguments: [phone.e164, after])
        }.min().map(Timestamp.init(microsecondsSinceEpoch:))
    }

    /// The erasures recorded, newest first.
    public func erasures(limit: Int = 100) async throws(StoreUnavailable) -> [ErasureRecord] {
        try await read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT * FROM erasure ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.erasure)
        }
    }

    /// Erasure records by id (for the delivery, which reads the entries `erase:<id>`).
    public func erasures(ids: [Int64]) async throws(StoreUnavailable) -> [Int64: ErasureRecord] {
        guard !ids.isEmpty else { return [:] }
        let ids = Array(Set(ids))
        return try await read { db in
            var found: [Int64: ErasureRecord] = [:]
            for id in ids {
                if let row = try GRDB.Row.fetchOne(db, sql: "SELECT * FROM erasure WHERE id = ?", arguments: [id]) { found[id] = Self.erasure(row) }
            }
            return found
        }
    }

    static func erasure(_ row: GRDB.Row) -> ErasureRecord {
        ErasureRecord(id: row["id"], at: Timestamp(microsecondsSinceEpoch: row["erased_at"]), visitorID: row["visitor_id"], by: row["by"],
                      visitors: row["visitors"], sessions: row["sessions"], calls: row["calls"], leads: row["leads"],
                      identifiers: row["identifiers"], merges: row["merges"])
    }

    /// Every visitor id, visit and phone of the person `target` names, and the visitor id the record keeps.
    static func person(of target: ErasureTarget, _ db: Database) throws -> (ErasedPerson, VisitorID?)? {
        var visitors: Set<VisitorID> = []
        var phones: Set<PhoneNumber> = []
        let named: VisitorID?
        switch target {
        case .visitor(let id):
            guard try isKnown(id, db) else { return nil }
            named = id
            visitors.insert(id)
        case .phone(let phone):
            phones.insert(phone)
            let owner = try VisitorIdentity.owner(of: VisitorIdentifier(phone: phone), db)
            named = try owner.map { try VisitorIdentity.survivor(of: $0, db) }
            if let owner { visitors.insert(owner) }
            let called = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM call WHERE caller = ?1) OR EXISTS (SELECT 1 FROM lead WHERE caller = ?1)
                """, arguments: [phone.e164]) ?? false
            guard owner != nil || called else { return nil }
        }
        for visitor in visitors {
            visitors.formUnion(try VisitorIdentity.group(of: VisitorIdentity.survivor(of: visitor, db), db))
        }
        let ids = Array(visitors)
        var sessions: Set<SessionID> = []
        for id in ids {
            sessions.formUnion(try String.fetchAll(db, sql: "SELECT id FROM session WHERE visitor_id = ?", arguments: [id]))
            sessions.formUnion(try String.fetchAll(db, sql: "SELECT DISTINCT session_id FROM lease WHERE visitor_id = ?", arguments: [id]))
            for value in try String.fetchAll(db, sql: """
                SELECT value FROM visitor_identifier WHERE visitor_id = ?1 AND kind = 'phone'
                UNION SELECT caller FROM lead WHERE visitor_id = ?1 AND caller IS NOT NULL
                """, arguments: [id]) {
                if let phone = try? PhoneNumber.e164(value) { phones.insert(phone) }
            }
        }
        return (ErasedPerson(visitors: visitors, sessions: sessions, phones: phones), named)
    }

    /// The erasure's transaction; returns the record and the newest outbox id. The sticky dealers of their phones,
    /// and of every caller and person a changed lead named, are read again once it commits.
    static func erase(
        _ person: ErasedPerson, named: VisitorID?, by: String, topic: String, sticky: StickyDealerIndex, at now: Timestamp, _ db: Database
    ) throws -> (ErasureRecord, Int64) {
        var stickyPhones = person.phones.map(\.e164)
        var stickyVisitors = Array(person.visitors)
        defer { sticky.touch(phones: stickyPhones, visitors: stickyVisitors, db) }
        var counts = (sessions: 0, calls: 0, leads: 0, identifiers: 0, merges: 0)
        // Leads that mention them anywhere: as the person, the caller, the match or a candidate, or in a touch.
        var callIDs: Set<String> = []
        for visitor in person.visitors {
            callIDs.formUnion(try String.fetchAll(db, sql: "SELECT call_id FROM lead WHERE visitor_id = ?1 OR match_visitor_id = ?1", arguments: [visitor]))
        }
        for phone in person.phones {
            callIDs.formUnion(try String.fetchAll(db, sql: "SELECT call_id FROM lead WHERE caller = ?", arguments: [phone.e164]))
        }
        for name in person.visitors.union(person.sessions) {
            callIDs.formUnion(try String.fetchAll(db, sql: """
                SELECT call_id FROM lead WHERE instr(match_candidates, ?1) > 0 OR instr(journey, ?1) > 0
                    OR instr(coalesce(first_touch, ''), ?1) > 0 OR instr(coalesce(last_touch, ''), ?1) > 0
                    OR match_session_id = ?1
                """, arguments: [name]))
        }
        var theirCalls: Set<String> = []
        var newest: Int64?
        for callID in callIDs.sorted() {
            guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT * FROM lead WHERE call_id = ?", arguments: [callID]) else { continue }
            let stored = Self.row(row)
            let before = StickyFields(row)
            if before.dealer != nil {
                if let caller = before.caller { stickyPhones.append(caller) }
                if let visitor = before.visitor { stickyVisitors.append(visitor) }
            }
            guard let lead = stored.lead else {
                try db.execute(sql: """
                    UPDATE lead SET caller = NULL, caller_raw = '', caller_name = NULL, user_agent = NULL, visitor_id = NULL,
                        match_visitor_id = NULL, match_session_id = NULL, match_candidates = '[]', journey = '[]', first_touch = NULL, last_touch = NULL
                    WHERE call_id = ?
                    """, arguments: [callID])
                theirCalls.insert(callID)
                counts.leads += 1
                continue
            }
            if person.owns(lead) { theirCalls.insert(callID) }
            guard let erased = lead.erasing(person, at: now) else { continue }
            try db.cachedStatement(sql: Self.upsertSQL).execute(arguments: Self.arguments(erased, callRevision: stored.callRevision, at: now))
            newest = try Outbox.insert(topic: topic, key: callID, revision: erased.revision, at: now, db)
            counts.leads += 1
        }
        // Calls: theirs by lead, and every call from one of their phones.
        for callID in theirCalls {
            try db.execute(sql: "UPDATE call SET caller = NULL, caller_raw = '', caller_name = NULL WHERE id = ?", arguments: [callID])
            counts.calls += db.changesCount
        }
        for phone in person.phones {
            try db.execute(sql: "UPDATE call SET caller = NULL, caller_raw = '', caller_name = NULL WHERE caller = ?", arguments: [phone.e164])
            counts.calls += db.changesCount
        }
        // Visits keep their time, site, number, channel and UTM tags under a new id that names nobody.
        var generator = SystemRandomNumberGenerator()
        for session in person.sessions.sorted() {
            let anonymous = TimeOrderedID.make(prefix: "x", at: now, using: &generator)
            try db.execute(sql: """
                UPDATE session SET id = ?, visitor_id = '', user_agent = NULL, client_network = NULL, ga_client_id = NULL,
                    ga_session_id = NULL, ym_uid = NULL, gclid = NULL, yclid = NULL, fbclid = NULL, msclkid = NULL, referrer = NULL, landing_url = NULL
                WHERE id = ?
                """, arguments: [anonymous, session])
            counts.sessions += db.changesCount
            try db.execute(sql: "UPDATE lease SET session_id = ?, visitor_id = '' WHERE session_id = ?", arguments: [anonymous, session])
        }
        for visitor in person.visitors {
            try db.execute(sql: "UPDATE lease SET visitor_id = '' WHERE visitor_id = ?", arguments: [visitor])
            try db.execute(sql: "UPDATE session SET visitor_id = '' WHERE visitor_id = ?", arguments: [visitor])
            try db.execute(sql: "DELETE FROM visitor_identifier WHERE visitor_id = ?", arguments: [visitor])
            counts.identifiers += db.changesCount
            try db.execute(sql: "DELETE FROM visitor_merge WHERE merged_id = ?1 OR survivor_id = ?1", arguments: [visitor])
            counts.merges += db.changesCount
            // Their merges' outbox entries name them: gone with the merges (a destination that has not read them
            // yet never will; one that has forgets them with the erasure below).
            let key = VisitorMerge.outboxKeyPrefix + visitor
            try db.execute(sql: "DELETE FROM outbox_failure WHERE outbox_id IN (SELECT id FROM outbox WHERE key = ?)", arguments: [key])
            try db.execute(sql: "DELETE FROM outbox WHERE key = ?", arguments: [key])
        }
        for phone in person.phones {
            try db.execute(sql: "DELETE FROM visitor_identifier WHERE kind = 'phone' AND value = ?", arguments: [phone.e164])
            counts.identifiers += db.changesCount
        }
        try db.execute(sql: """
            INSERT INTO erasure (erased_at, visitor_id, by, visitors, sessions, calls, leads, identifiers, merges)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [now.microsecondsSinceEpoch, named, by, person.visitors.count, counts.sessions, counts.calls, counts.leads,
                             counts.identifiers, counts.merges])
        let id = db.lastInsertedRowID
        let erasureEntry = try Outbox.insert(topic: topic, key: ErasureRecord.outboxKeyPrefix + String(id), revision: nil, at: now, db)
        let record = ErasureRecord(id: id, at: now, visitorID: named, by: by, visitors: person.visitors.count, sessions: counts.sessions,
                                   calls: counts.calls, leads: counts.leads, identifiers: counts.identifiers, merges: counts.merges)
        return (record, max(newest ?? 0, erasureEntry))
    }
}
