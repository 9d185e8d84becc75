import CallTrackCore
import Foundation
import GRDB

/// Each dealer's hour buckets and unanswered calls in the state database. The lead path adds a change's tally in
/// the change's own transaction (`add(_:_:)`), so a call is counted exactly when its lead is stored; callbacks
/// seen on AMI mark the unanswered calls they answer; hours and misses older than the kept period are dropped.
public final class DealerStatisticsStore: Sendable {
    let database: DatabasePool
    /// Where the leads a callback changes are queued; nil for a reader (`calltrackd dealers`) that records none.
    let outbox: Outbox?

    public init(store: SQLiteStore, outbox: Outbox? = nil) {
        database = store.database
        self.outbox = outbox
    }

    /// Adds `tally` inside the caller's transaction: each hour is added to the stored one, a missed call is kept
    /// (once per call).
    static func add(_ tally: DealerTally, _ db: Database) throws {
        guard !tally.isEmpty else { return }
        let statement = try db.cachedStatement(sql: addSQL)
        for hour in tally.hours {
            let seconds = String(decoding: try JSONEncoder().encode(hour.answerSeconds), as: UTF8.self)
            try statement.execute(arguments: [
                hour.dealer, hour.start.microsecondsSinceEpoch, hour.offered, hour.answered, hour.missed, hour.abandoned,
                hour.busy, hour.talkSeconds, hour.leads, hour.junk, seconds,
            ])
        }
        if let missed = tally.missedCall {
            let (caller, at) = (missed.caller.e164, missed.missedAt.microsecondsSinceEpoch)
            try db.execute(sql: """
                INSERT INTO dealer_missed_call (call_id, dealer_id, caller, missed_at, called_back_at)
                VALUES (?, ?, ?, ?, (SELECT min(called_at) FROM dealer_callback WHERE dealer_id = ? AND caller = ? AND called_at >= ?))
                ON CONFLICT (call_id) DO NOTHING
                """, arguments: [missed.callID, missed.dealer, caller, at, missed.dealer, caller, at])
            // A callback seen before the miss (the two arrive on separate streams) goes on the lead written in this
            // same transaction, so the revision just queued carries it.
            try db.execute(sql: """
                UPDATE lead SET called_back_at = (SELECT called_back_at FROM dealer_missed_call WHERE call_id = ?)
                WHERE call_id = ? AND called_back_at IS NULL
                """, arguments: [missed.callID, missed.callID])
        }
    }

    static let addSQL = """
        INSERT INTO dealer_statistics (dealer_id, start, offered, answered, missed, abandoned, busy, talk_seconds, leads, junk,
                                       answer_seconds)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (dealer_id, start) DO UPDATE SET
            offered = offered + excluded.offered, answered = answered + excluded.answered, missed = missed + excluded.missed,
            abandoned = abandoned + excluded.abandoned, busy = busy + excluded.busy,
            talk_seconds = talk_seconds + excluded.talk_seconds, leads = leads + excluded.leads, junk = junk + excluded.junk,
            answer_seconds = (SELECT json_group_array(value) FROM (
                SELECT value FROM json_each(dealer_statistics.answer_seconds)
                UNION ALL SELECT value FROM json_each(excluded.answer_seconds)))
        """

    /// Keeps the callback, and marks the unanswered calls of `dealer` from `caller` before `at`, not called back
    /// yet, as called back at `at`, each lead with them (a new revision queued for delivery); returns how many. A
    /// miss stored later finds the callback itself (`add`).
    @discardableResult
    public func callback(dealer: DealerID, to caller: PhoneNumber, at: Timestamp) async throws(StoreUnavailable) -> Int {
        let topic = outbox?.topic
        let (count, newest): (Int, Int64?)
        do {
            (count, newest) = try await database.write { db in
                try db.execute(sql: "INSERT INTO dealer_callback (dealer_id, caller, called_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [dealer, caller.e164, at.microsecondsSinceEpoch])
                let answered = try String.fetchAll(db.cachedStatement(sql: Self.callbackSQL),
                                                   arguments: [at.microsecondsSinceEpoch, dealer, caller.e164, at.microsecondsSinceEpoch])
                guard let topic else { return (answered.count, nil) }
                return (answered.count, try LeadLedger.calledBack(answered, at: at, topic: topic, now: at, db))
            }
        } catch {
            throw StoreUnavailable("cannot store a dealer's callback: \(SQLiteStore.explain(error))")
        }
        if let newest { outbox?.ring(newest: newest) }
        return count
    }

    static let callbackSQL = """
        UPDATE dealer_missed_call SET called_back_at = ?
        WHERE dealer_id = ? AND caller = ? AND missed_at <= ? AND called_back_at IS NULL
        RETURNING call_id
        """

    /// Hour buckets of calls started in [from, to), in time order.
    public func hours(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [DealerHour] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM dealer_statistics WHERE start >= ? AND start < ? ORDER BY start, dealer_id
                """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]).map(Self.hour)
        }
    }

    /// Unanswered calls that ended in [from, to).
    public func missedCalls(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [MissedCall] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM dealer_missed_call WHERE missed_at >= ? AND missed_at < ? ORDER BY missed_at
                """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]).compactMap(Self.missed)
        }
    }

    /// Drops hours and unanswered calls older than `kept`; returns how many rows went.
    @discardableResult
    public func prune(now: Timestamp, kept: Duration) async throws(StoreUnavailable) -> Int {
        let cutoff = (now - kept).microsecondsSinceEpoch
        do {
            return try await database.write { db in
                try db.execute(sql: "DELETE FROM dealer_statistics WHERE start < ?", arguments: [cutoff])
                var gone = db.changesCount
                try db.execute(sql: "DELETE FROM dealer_missed_call WHERE missed_at < ?", arguments: [cutoff])
                gone += db.changesCount
                try db.execute(sql: "DELETE FROM dealer_callback WHERE called_at < ?", arguments: [cutoff])
                gone += db.changesCount
                return gone
            }
        } catch {
            throw StoreUnavailable("cannot prune dealer statistics: \(SQLiteStore.explain(error))")
        }
    }

    static func hour(_ row: Row) -> DealerHour {
        var hour = DealerHour(dealer: row["dealer_id"], start: Timestamp(microsecondsSinceEpoch: row["start"]))
        hour.offered = row["offered"]
        hour.answered = row["answered"]
        hour.missed = row["missed"]
        hour.abandoned = row["abandoned"]
        hour.busy = row["busy"]
        hour.talkSeconds = row["talk_seconds"]
        hour.leads = row["leads"]
        hour.junk = row["junk"]
        hour.answerSeconds = (try? JSONDecoder().decode([Int].self, from: Data((row["answer_seconds"] as String).utf8))) ?? []
        return hour
    }

    /// A stored miss; nil for a caller that no longer parses (left out, not fatal).
    static func missed(_ row: Row) -> MissedCall? {
        guard let caller = try? PhoneNumber.e164(row["caller"]) else { return nil }
        return MissedCall(
            callID: row["call_id"], dealer: row["dealer_id"], caller: caller, missedAt: Timestamp(microsecondsSinceEpoch: row["missed_at"]),
            calledBackAt: (row["called_back_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.read(body) } catch {
            throw StoreUnavailable("cannot read dealer statistics: \(SQLiteStore.explain(error))")
        }
    }
}
