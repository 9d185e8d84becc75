import CallTrackCore
import Foundation
import GRDB

/// The pools' per-minute buckets kept in the state database: written once a minute, rolled up into hours after
/// `minutesKept`, and forgotten after `hoursKept`.
public final class PoolStatisticsStore: Sendable {
    let database: DatabasePool

    public init(store: SQLiteStore) {
        database = store.database
    }

    /// Adds the buckets (a bucket already stored for the same pool and start is added to, not replaced).
    public func add(_ buckets: [PoolMinute]) async throws(StoreUnavailable) {
        guard !buckets.isEmpty else { return }
        do {
            try await database.write { db in
                let statement = try db.cachedStatement(sql: Self.addSQL)
                for bucket in buckets { try statement.execute(arguments: Self.arguments(bucket)) }
                // Each hour they fall in, rolled up again from what is stored for it.
                var hours: [String: Set<Int64>] = [:]
                for bucket in buckets { hours[bucket.poolID, default: []].insert(Self.hour(of: bucket.start)) }
                for (pool, starts) in hours {
                    for start in starts { try Self.rollUp(db, pool: pool, hour: start) }
                }
            }
        } catch {
            throw StoreUnavailable("cannot store pool statistics: \(SQLiteStore.explain(error))")
        }
    }

    /// Rolls minutes older than `minutesKept` into their hours and drops hours older than `hoursKept`; returns
    /// how many minutes were rolled up.
    @discardableResult
    public func compact(now: Timestamp, minutesKept: Duration, hoursKept: Duration) async throws(StoreUnavailable) -> Int {
        let minuteCutoff = now - minutesKept
        // Whole hours only: an hour is rolled up once all its minutes are past the cutoff.
        let cutoff = minuteCutoff.microsecondsSinceEpoch - minuteCutoff.microsecondsSinceEpoch % 3_600_000_000
        do {
            return try await database.write { db in
                let old = try Row.fetchAll(db, sql: "SELECT \(Self.columns), seconds FROM pool_statistics WHERE seconds = 60 AND start < ?", arguments: [cutoff]).map(Self.bucket)
                let statement = try db.cachedStatement(sql: Self.addSQL)
                for hour in PoolMinute.hours(old) { try statement.execute(arguments: Self.arguments(hour)) }
                try db.execute(sql: "DELETE FROM pool_statistics WHERE seconds = 60 AND start < ?", arguments: [cutoff])
                try db.execute(sql: "DELETE FROM pool_statistics WHERE seconds = 3600 AND start < ?",
                               arguments: [(now - hoursKept).microsecondsSinceEpoch])
                try db.execute(sql: "DELETE FROM pool_statistics_hour WHERE start < ?", arguments: [(now - hoursKept).microsecondsSinceEpoch])
                return old.count
            }
        } catch {
            throw StoreUnavailable("cannot compact pool statistics: \(SQLiteStore.explain(error))")
        }
    }

    /// Buckets starting in [from, to), minutes and hours, of `pools` (all when nil), in time order.
    public func buckets(pools: Set<String>? = nil, from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute] {
        do {
            return try await database.read { db in
                if let pools {
                    // Each pool by the primary key, rather than every pool's rows of the period.
                    return try pools.flatMap { try Self.rows(db, Self.edgeSQL, [$0, from.microsecondsSinceEpoch, to.microsecondsSinceEpoch], Self.bucket) }
                        .sorted { ($0.start, $0.poolID) < ($1.start, $1.poolID) }
                }
                return try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT \(Self.columns), seconds FROM pool_statistics WHERE start >= ? AND start < ? ORDER BY start, pool_id
                    """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch])
                    .map(Self.bucket)
            }
        } catch {
            throw StoreUnavailable("cannot read pool statistics: \(SQLiteStore.explain(error))")
        }
    }

    /// `pools`' buckets for [from, to) by the hour: each whole hour as stored rolled up (its minutes' detail
    /// kept), and the minutes of a partial hour at either end as they are; per pool, in time order. What a week
    /// or a month by the hour reads: a row per pool and hour, found by the primary key.
    public func hours(pools: [String], from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute] {
        let first = Self.hour(of: from) + (from.microsecondsSinceEpoch % 3_600_000_000 == 0 ? 0 : 3_600_000_000)
        let last = max(first, Self.hour(of: to))
        do {
            return try await database.read { db in
                var buckets: [PoolMinute] = []
                for pool in pools {
                    buckets += try Self.rows(db, Self.edgeSQL, [pool, from.microsecondsSinceEpoch, min(first, to.microsecondsSinceEpoch)], Self.bucket)
                        .sorted { $0.start < $1.start }
                    buckets += try Self.rows(db, Self.hoursSQL, [pool, first, last], Self.hourBucket)
                    buckets += try Self.rows(db, Self.edgeSQL, [pool, max(last, from.microsecondsSinceEpoch), to.microsecondsSinceEpoch], Self.bucket)
                        .sorted { $0.start < $1.start }
                }
                return buckets
            }
        } catch {
            throw StoreUnavailable("cannot read pool statistics: \(SQLiteStore.explain(error))")
        }
    }

    static let hoursSQL = "SELECT \(columns), minute_lease_seconds, minute_utilisation FROM pool_statistics_hour WHERE pool_id = ? AND start >= ? AND start < ? ORDER BY start"
    /// In key order (seconds, then start): the caller orders by time.
    static let edgeSQL = "SELECT \(columns), seconds FROM pool_statistics WHERE pool_id = ? AND seconds IN (60, 3600) AND start >= ? AND start < ?"
    /// The columns `bucket` reads, by position (a name lookup per column and row cost more than the query).
    static let columns = "pool_id, start, size, live_sum, live_samples, live_peak, allocations, shared, exhaustions, sessions, cooldown_seconds, "
        + callColumns.map(\.1).joined(separator: ", ") + ", late_gaps"

    static func rows(_ db: Database, _ sql: String, _ arguments: StatementArguments, _ make: (Row) -> PoolMinute) throws -> [PoolMinute] {
        var found: [PoolMinute] = []
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try cursor.next() { found.append(make(row)) }
        return found
    }

    static func hour(of t: Timestamp) -> Int64 {
        t.microsecondsSinceEpoch - ((t.microsecondsSinceEpoch % 3_600_000_000) + 3_600_000_000) % 3_600_000_000
    }

    /// Rewrites one hour of a pool in pool_statistics_hour from its stored minutes (and its rolled-up row, if any).
    static func rollUp(_ db: Database, pool: String, hour: Int64) throws {
        let stored = try rows(db, edgeSQL, [pool, hour, hour + 3_600_000_000], bucket)
        guard var rolled = PoolMinute.hours(stored).first else { return }
        rolled.minuteLeaseSeconds = rolled.leaseSeconds
        let values: [(any DatabaseValueConvertible)?] = [
            rolled.poolID, rolled.start.microsecondsSinceEpoch, rolled.size, rolled.liveSum, rolled.liveSamples, rolled.livePeak,
            rolled.allocations, rolled.shared, rolled.exhaustions, rolled.sessions, rolled.cooldownSeconds,
        ] + callColumns.map { rolled.calls[$0.0] ?? 0 } + [
            gapsText(rolled.lateGaps), rolled.leaseSeconds,
            rolled.minuteUtilisation.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "),
        ]
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO pool_statistics_hour (pool_id, start, size, live_sum, live_samples, live_peak, allocations, shared,
                exhaustions, sessions, cooldown_seconds, \(callColumns.map(\.1).joined(separator: ", ")), late_gaps, minute_lease_seconds,
                minute_utilisation)
            VALUES (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))
            """).execute(arguments: StatementArguments(values))
    }

    static func hourBucket(_ row: Row) -> PoolMinute {
        var b = bucket(row, seconds: 3_600)
        b.minuteLeaseSeconds = row[18]
        let text: String = row[19]
        for pair in text.utf8.split(separator: UInt8(ascii: " ")) {
            let parts = pair.split(separator: UInt8(ascii: ":"))
            guard parts.count == 2, let step = Int(Substring(parts[0])), let minutes = Int(Substring(parts[1])) else { continue }
            b.minuteUtilisation[step, default: 0] += minutes
        }
        return b
    }

    static func gapsText(_ gaps: [Double]) -> String {
        gaps.isEmpty ? "[]" : String(decoding: (try? JSONEncoder().encode(gaps)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static let callColumns: [(MatchKind, String)] = [
        (.exact, "calls_exact"), (.shared, "calls_shared"), (.late, "calls_late"), (.repeat, "calls_repeat"),
        (.static, "calls_static"), (.unmatched, "calls_unmatched"),
    ]

    static let addSQL: String = {
        let added = ["live_sum", "live_samples", "allocations", "shared", "exhaustions", "sessions"] + callColumns.map(\.1)
        return """
            INSERT INTO pool_statistics (pool_id, seconds, start, size, live_sum, live_samples, live_peak, allocations, shared,
                exhaustions, sessions, cooldown_seconds, \(callColumns.map(\.1).joined(separator: ", ")), late_gaps)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(callColumns.map { _ in "?" }.joined(separator: ", ")), ?)
            ON CONFLICT (pool_id, seconds, start) DO UPDATE SET
                \(added.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")),
                size = excluded.size, cooldown_seconds = excluded.cooldown_seconds, live_peak = max(live_peak, excluded.live_peak),
                late_gaps = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(late_gaps) UNION ALL SELECT value FROM json_each(excluded.late_gaps)))
            """
    }()

    static func arguments(_ b: PoolMinute) -> StatementArguments {
        let gaps = gapsText(b.lateGaps)
        let values: [(any DatabaseValueConvertible)?] = [
            b.poolID, b.seconds, b.start.microsecondsSinceEpoch, b.size, b.liveSum, b.liveSamples, b.livePeak, b.allocations, b.shared,
            b.exhaustions, b.sessions, b.cooldownSeconds,
        ] + callColumns.map { b.calls[$0.0] ?? 0 } + [gaps]
        return StatementArguments(values)
    }

    static func bucket(_ row: Row) -> PoolMinute {
        bucket(row, seconds: row[18])
    }

    static func bucket(_ row: Row, seconds: Int) -> PoolMinute {
        var b = PoolMinute(poolID: row[0], start: Timestamp(microsecondsSinceEpoch: row[1]), seconds: seconds)
        b.size = row[2]
        b.liveSum = row[3]
        b.liveSamples = row[4]
        b.livePeak = row[5]
        b.allocations = row[6]
        b.shared = row[7]
        b.exhaustions = row[8]
        b.sessions = row[9]
        b.cooldownSeconds = row[10]
        for (index, (kind, _)) in callColumns.enumerated() {
            let count: Int = row[11 + index]
            if count > 0 { b.calls[kind] = count }
        }
        let gaps: String = row[17]
        b.lateGaps = gaps == "[]" ? [] : (try? JSONDecoder().decode([Double].self, from: Data(gaps.utf8))) ?? []
        return b
    }
}
