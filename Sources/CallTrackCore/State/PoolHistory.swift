/// Each pool's statistics over time (SPEC §Ops): minute buckets, rolled up into hours as they age.
public protocol PoolHistory: Sendable {
    /// Adds finished minutes (a minute added again is summed into the stored one).
    func add(_ buckets: [PoolMinute]) async throws(StoreUnavailable)
    /// Rolls minutes older than `minutesKept` into hours and drops hours older than `hoursKept`; returns how many
    /// minutes were rolled up.
    @discardableResult
    func compact(now: Timestamp, minutesKept: Duration, hoursKept: Duration) async throws(StoreUnavailable) -> Int
    /// Buckets of `pools` (all when nil) in [from, to), oldest first.
    func buckets(pools: Set<String>?, from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute]
    /// `pools`' buckets for [from, to) by the hour: each whole hour rolled up, the minutes of a partial hour at either
    /// end as they are; per pool, in time order. What a week or a month by the hour reads.
    func hours(pools: [String], from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute]
}
