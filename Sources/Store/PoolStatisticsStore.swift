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
                let old = try Row.fetchAll(db, sql: "SELECT * FROM pool_statistics WHERE seconds = 60 AND start < ?", arguments: [cutoff]).map(Self.bucket)
                let statement = try db.cachedStatement(sql: Self.addSQL)
                for hour in PoolMinute.hours(old) { try statement.execute(arguments: Self.arguments(hour)) }
                try db.execute(sql: "DELETE FROM pool_statistics WHERE seconds = 60 AND start < ?", arguments: [cutoff])
                try db.execute(sql: "DELETE FROM pool_statistics WHERE seconds = 3600 AND start < ?",
                               arguments: [(now - hoursKept).microsecondsSinceEpoch])
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
                try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT * FROM pool_statistics WHERE start >= ? AND start < ? ORDER BY start, pool_id
                    """), arguments: [from.microsecondsSinceEpoch, to.microsecondsSinceEpoch])
                    .map(Self.bucket).filter { pools?.contains($0.poolID) ?? true }
            }
        } catch {
            throw StoreUnavailable("cannot read pool statistics: \(SQLiteStore.explain(error))")
        }
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
        let gaps = String(decoding: (try? JSONEncoder().encode(b.lateGaps)) ?? Data("[]".utf8), as: UTF8.self)
        let values: [(any DatabaseValueConvertible)?] = [
            b.poolID, b.seconds, b.start.microsecondsSinceEpoch, b.size, b.liveSum, b.liveSamples, b.livePeak, b.allocations, b.shared,
            b.exhaustions, b.sessions, b.cooldownSeconds,
        ] + callColumns.map { b.calls[$0.0] ?? 0 } + [gaps]
        return StatementArguments(values)
    }

    static func bucket(_ row: Row) -> PoolMinute {
        var b = PoolMinute(poolID: row["pool_id"], start: Timestamp(microsecondsSinceEpoch: row["start"]), seconds: row["seconds"])
        b.size = row["size"]
        b.liveSum = row["live_sum"]
        b.liveSamples = row["live_samples"]
        b.livePeak = row["live_peak"]
        b.allocations = row["allocations"]
        b.shared = row["shared"]
        b.exhaustions = row["exhaustions"]
        b.sessions = row["sessions"]
        b.cooldownSeconds = row["cooldown_seconds"]
        for (kind, column) in callColumns {
            let count: Int = row[column]
            if count > 0 { b.calls[kind] = count }
        }
        b.lateGaps = (try? JSONDecoder().decode([Double].self, from: Data((row["late_gaps"] as String).utf8))) ?? []
        return b
    }
}
