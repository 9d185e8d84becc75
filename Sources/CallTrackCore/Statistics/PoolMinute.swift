/// One pool's traffic in one minute (or, rolled up, one hour): what ops need to judge the pool's size and
/// the attribution's accuracy. Counters add; `livePeak` takes the maximum.
public struct PoolMinute: Sendable, Hashable, Codable {
    public var poolID: String
    /// The start of the bucket (a whole minute or hour, UTC).
    public var start: Timestamp
    /// The bucket's length: 60 s, or 3600 s once rolled up.
    public var seconds: Int
    /// Numbers in the pool (the last sample of the bucket).
    public var size = 0
    /// Live leases: the sum and count of samples (their mean), and the highest seen.
    public var liveSum = 0
    public var liveSamples = 0
    public var livePeak = 0
    /// New leases handed out (a touch is not one), of them shared, and visits that found the pool full.
    public var allocations = 0
    public var shared = 0
    public var exhaustions = 0
    /// Sessions started: the arrival rate.
    public var sessions = 0
    /// The pool's cooldown (its policy's, the last of the bucket): a number stays out of the free list for its
    /// lease and then this long.
    public var cooldownSeconds = 0.0
    /// Calls on this pool's numbers by how they matched.
    public var calls: [MatchKind: Int] = [:]
    /// Seconds between a lease's end and a `late` call on its number, one per late call (for the cooldown the
    /// calls need); kept per bucket, few.
    public var lateGaps: [Double] = []
    /// Of a bucket rolled up from minutes: how many of its minutes ran at each utilisation (mean live ÷ size, in
    /// per-mille steps rounded down), and the lease-seconds they held; empty and nil for a minute itself, and
    /// for an hour rolled up before they were kept. With them an hour answers for its minutes: utilisation
    /// percentiles and the mean lease come out as from the minutes (the percentiles to 0.1%).
    public var minuteUtilisation: [Int: Int] = [:]
    public var minuteLeaseSeconds: Double?

    public init(poolID: String, start: Timestamp, seconds: Int = 60) {
        self.poolID = poolID
        self.start = start
        self.seconds = seconds
    }

    public var liveMean: Double { liveSamples == 0 ? 0 : Double(liveSum) / Double(liveSamples) }
    /// Lease-seconds held in the bucket (mean live × length): with the allocations, Little's law gives the
    /// mean lease length without following each lease to its end.
    public var leaseSeconds: Double { minuteLeaseSeconds ?? liveMean * Double(seconds) }
    /// Mean live ÷ size; nil without a size or a sample.
    public var utilisation: Double? { size > 0 && liveSamples > 0 ? liveMean / Double(size) : nil }
    /// The bucket's utilisation as counts per per-mille step: its minutes', or its own as one.
    public var utilisationCounts: [Int: Int] {
        if !minuteUtilisation.isEmpty { return minuteUtilisation }
        return utilisation.map { [Self.perMille($0): 1] } ?? [:]
    }

    static func perMille(_ share: Double) -> Int { Int((share * 1_000).rounded(.down)) }
    public var callsOnPool: Int { calls.filter { $0.key != .static }.values.reduce(0, +) }

    /// This bucket with `other` (same pool) added in: an hour from its minutes.
    public mutating func add(_ other: PoolMinute) {
        // An hour keeps its minutes' detail: what it held so far (its own figures, for an hour without detail),
        // then the added bucket's.
        if seconds > 60 {
            let lease = leaseSeconds, counts = utilisationCounts
            minuteLeaseSeconds = lease + other.leaseSeconds
            minuteUtilisation = counts.merging(other.utilisationCounts, uniquingKeysWith: +)
        }
        size = other.start >= start ? other.size : size
        liveSum += other.liveSum
        liveSamples += other.liveSamples
        livePeak = max(livePeak, other.livePeak)
        allocations += other.allocations
        shared += other.shared
        exhaustions += other.exhaustions
        sessions += other.sessions
        cooldownSeconds = other.start >= start ? other.cooldownSeconds : cooldownSeconds
        for (kind, count) in other.calls { calls[kind, default: 0] += count }
        lateGaps += other.lateGaps
    }

    /// Minutes rolled up into hours (UTC), per pool, in time order. A bucket that already is its hour is taken
    /// as it is; the rest are added into their hour in place.
    public static func hours(_ minutes: [PoolMinute]) -> [PoolMinute] {
        var hours: [HourKey: PoolMinute] = [:]
        hours.reserveCapacity(minutes.count / 30 + 1)
        for minute in minutes {
            let hour = minute.start.microsecondsSinceEpoch - minute.start.microsecondsSinceEpoch % 3_600_000_000
            let key = HourKey(pool: minute.poolID, hour: hour)
            if minute.seconds == 3_600, minute.start.microsecondsSinceEpoch == hour, hours[key] == nil {
                hours[key] = minute
                continue
            }
            hours[key, default: PoolMinute(poolID: minute.poolID, start: Timestamp(microsecondsSinceEpoch: hour), seconds: 3_600)].add(minute)
        }
        return hours.values.sorted { ($0.start, $0.poolID) < ($1.start, $1.poolID) }
    }

    struct HourKey: Hashable {
        var pool: String
        var hour: Int64
    }
}
