import Synchronization

/// Counts each pool's traffic per minute in memory, on the hot path without a store query: an allocation costs
/// one uncontended lock and a dictionary update. Finished minutes are taken (`takeFinished`) and written by the
/// store's writer once a minute.
public final class PoolStatsRecorder: Sendable {
    private let buckets = Mutex<[Key: PoolMinute]>([:])

    struct Key: Hashable {
        var pool: String
        var minute: Int64
    }

    /// False only to measure what counting costs (`calltrackd-bench http --compare-statistics`): `note` then
    /// counts nothing; sampling and calls still count.
    public let countsAllocations: Bool

    public init(countsAllocations: Bool = true) {
        self.countsAllocations = countsAllocations
    }

    /// An allocation's outcome: a new lease (maybe shared) or a full pool; a touch of a live lease counts nothing.
    public func note(_ assignment: Assignment, at now: Timestamp) {
        guard countsAllocations, let pool = assignment.poolID, let outcome = assignment.outcome else { return }
        update(pool, at: now) { bucket in
            switch outcome {
            case .existing: return
            case .leased: bucket.allocations += 1
            case .shared:
                bucket.allocations += 1
                bucket.shared += 1
            case .exhausted: bucket.exhaustions += 1
            }
            bucket.sessions += 1
        }
    }

    /// The pools as they stand (size, live leases), sampled every few seconds.
    public func sample(_ pools: [LeaseBook.PoolSnapshot], cooldowns: [String: Duration], at now: Timestamp) {
        for pool in pools {
            update(pool.poolID, at: now) { bucket in
                bucket.size = pool.size
                bucket.liveSum += pool.live
                bucket.liveSamples += 1
                bucket.livePeak = max(bucket.livePeak, pool.live)
                bucket.cooldownSeconds = cooldowns[pool.poolID]?.secondsDouble ?? bucket.cooldownSeconds
            }
        }
    }

    /// A call on one of the pool's numbers and how it matched; `lateGap` is how long after the lease ended a `late` call came.
    public func noteCall(pool: String, kind: MatchKind, lateGap: Duration? = nil, at now: Timestamp) {
        update(pool, at: now) { bucket in
            bucket.calls[kind, default: 0] += 1
            if let lateGap { bucket.lateGaps.append(lateGap.secondsDouble) }
        }
    }

    /// Removes and returns the buckets of minutes that ended by `now`, oldest first.
    public func takeFinished(at now: Timestamp) -> [PoolMinute] {
        let current = Self.minute(of: now)
        return buckets.withLock { buckets in
            let finished = buckets.filter { $0.key.minute < current }
            for key in finished.keys { buckets[key] = nil }
            return finished.values.sorted { ($0.start, $0.poolID) < ($1.start, $1.poolID) }
        }
    }

    /// Puts back buckets the store could not take, to be written with the next ones.
    public func putBack(_ minutes: [PoolMinute]) {
        buckets.withLock { buckets in
            for minute in minutes {
                let key = Key(pool: minute.poolID, minute: minute.start.microsecondsSinceEpoch)
                if var newer = buckets[key] {
                    newer.add(minute)
                    buckets[key] = newer
                } else {
                    buckets[key] = minute
                }
            }
        }
    }

    static func minute(of t: Timestamp) -> Int64 {
        let micros = t.microsecondsSinceEpoch
        return micros - ((micros % 60_000_000) + 60_000_000) % 60_000_000
    }

    private func update(_ pool: String, at now: Timestamp, _ change: (inout PoolMinute) -> Void) {
        let minute = Self.minute(of: now)
        buckets.withLock { buckets in
            let key = Key(pool: pool, minute: minute)
            var bucket = buckets[key] ?? PoolMinute(poolID: pool, start: Timestamp(microsecondsSinceEpoch: minute))
            change(&bucket)
            buckets[key] = bucket
        }
    }
}
