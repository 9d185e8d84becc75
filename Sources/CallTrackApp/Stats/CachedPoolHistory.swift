import CallTrackCore
import Synchronization

/// The pool statistics as the daemon reads and writes them: the store, with the whole hours that answers read
/// again and again held in memory (`PoolHourCache`). Every write goes through here, so what is held follows
/// the store: an added minute drops its hour, a compaction the hours it rolls up or forgets.
public final class CachedPoolHistory: PoolHistory {
    let store: any PoolHistory
    let clock: any WallClock
    let cache: Mutex<PoolHourCache>

    public init(store: any PoolHistory, clock: any WallClock, span: Duration = .seconds(31 * 86_400)) {
        self.store = store
        self.clock = clock
        cache = Mutex(PoolHourCache(span: span))
    }

    public func add(_ buckets: [PoolMinute]) async throws(StoreUnavailable) {
        // After the write (a read in between keeps the hour as it was, and this drops it again), and after a
        // failed one too.
        defer { cache.withLock { $0.added(buckets) } }
        try await store.add(buckets)
    }

    @discardableResult
    public func compact(now: Timestamp, minutesKept: Duration, hoursKept: Duration) async throws(StoreUnavailable) -> Int {
        defer { cache.withLock { $0.compacted(now: now, minutesKept: minutesKept, hoursKept: hoursKept) } }
        return try await store.compact(now: now, minutesKept: minutesKept, hoursKept: hoursKept)
    }

    public func buckets(pools: Set<String>?, from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute] {
        try await store.buckets(pools: pools, from: from, to: to)
    }

    /// As the store answers it: per pool, the minutes of a partial hour at the start, the whole hours (those held
    /// from memory, the rest read and kept), the minutes of a partial hour at the end.
    public func hours(pools: [String], from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute] {
        let whole = PoolHourCache.wholeHours(from: from, to: to)
        let (first, last) = (whole.lowerBound, whole.upperBound)
        // The partial hours of every pool in one read each.
        let leading = from < min(first, to) ? Dictionary(grouping: try await store.hours(pools: pools, from: from, to: min(first, to)), by: \.poolID) : [:]
        let trailing = max(last, from) < to ? Dictionary(grouping: try await store.hours(pools: pools, from: max(last, from), to: to), by: \.poolID) : [:]
        var buckets: [PoolMinute] = []
        for pool in pools {
            buckets += leading[pool] ?? []
            if first < last {
                let (held, missing, generation) = cache.withLock { cache in
                    let found = cache.lookup(pool: pool, from: first, to: last)
                    return (found.held, found.missing, cache.generation)
                }
                var read: [PoolMinute] = []
                for range in missing {
                    let hours = try await store.hours(pools: [pool], from: range.lowerBound, to: range.upperBound)
                    cache.withLock { $0.keep(hours, pool: pool, from: range.lowerBound, to: range.upperBound, readAt: generation, now: clock.now()) }
                    read += hours
                }
                buckets += read.isEmpty ? held : (held + read).sorted { $0.start < $1.start }
            }
            buckets += trailing[pool] ?? []
        }
        return buckets
    }
}
