#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pool's own traffic as the daemon measured it, for `calltrackd simulate --from-stats`: the visits that
/// started in each hour of a window and how long a number stayed held, read from the pool's stored buckets.
///
/// ```swift
/// let measured = MeasuredTraffic(poolID: "paid-search", buckets: stored, from: weekAgo, to: now)  // nil: no visits
/// let profile = measured?.profile(policy: pool.policy)   // those hours, replayed visit for visit
/// ```
public struct MeasuredTraffic: Sendable, Hashable, Codable {
    public var poolID: String
    /// The window, whole hours: `hours[0]` is the hour starting at `from`.
    public var from: Timestamp
    public var to: Timestamp
    /// Visits that asked the pool for a number (leased, shared or found it full), per hour of the window.
    public var hours: [Int]
    /// Mean time a number stayed out of the free list per lease (the lease, by Little's law, and the cooldown),
    /// and the cooldown that was part of it.
    public var meanHoldingSeconds: Double
    public var cooldownSeconds: Double
    /// Calls on the pool's numbers (not repeat or static ones) per visit; nil when none were recorded.
    public var callShare: Double?

    /// Reads one pool's buckets (minutes or hours, any order) in `[from, to)`, both rounded down to whole
    /// hours; nil when no visit was recorded in the window (nothing to replay).
    public init?(poolID: String, buckets: [PoolMinute], from: Timestamp, to: Timestamp) {
        let hour: Int64 = 3_600_000_000
        func floorHour(_ t: Timestamp) -> Int64 { t.microsecondsSinceEpoch - ((t.microsecondsSinceEpoch % hour) + hour) % hour }
        let start = floorHour(from), end = floorHour(to)
        guard end > start else { return nil }
        let own = buckets.filter { $0.poolID == poolID && $0.start.microsecondsSinceEpoch >= start && $0.start.microsecondsSinceEpoch < end }
        var hours = [Int](repeating: 0, count: Int((end - start) / hour))
        for bucket in own { hours[Int((bucket.start.microsecondsSinceEpoch - start) / hour)] += bucket.sessions }
        guard hours.contains(where: { $0 > 0 }) else { return nil }
        self.poolID = poolID
        self.from = Timestamp(microsecondsSinceEpoch: start)
        self.to = Timestamp(microsecondsSinceEpoch: end)
        self.hours = hours
        let summary = PoolStatsSummary(poolID: poolID, buckets: own, from: self.from, to: self.to)
        meanHoldingSeconds = summary.meanHoldingSeconds
        cooldownSeconds = own.max { $0.start < $1.start }?.cooldownSeconds ?? 0
        let calls = own.reduce(0) { total, bucket in
            total + bucket.calls.filter { $0.key != .static && $0.key != .repeat }.values.reduce(0, +)
        }
        callShare = calls == 0 ? nil : Double(calls) / Double(hours.reduce(0, +))
    }

    public var sessions: Int { hours.reduce(0, +) }
    /// Days the window covers (its hours rounded up to days): the simulated days of a replay.
    public var days: Int { (hours.count + 23) / 24 }
    /// Mean lease length: the holding time without the cooldown.
    public var meanLeaseSeconds: Double { max(0, meanHoldingSeconds - cooldownSeconds) }

    /// The simulator's traffic: these hours replayed visit for visit (no bots: the daemon counts only the
    /// visits that asked the pool), visits as long as the measured leases imply under `policy` (a lease lasts
    /// the visit, to its last ping, then the idle TTL), and the measured call share unless there was none.
    public func profile(policy: PoolPolicy, base: TrafficProfile = TrafficProfile()) -> TrafficProfile {
        var profile = base
        profile.replayedHours = hours
        profile.visitsPerDay = Double(sessions) / Double(max(days, 1))
        profile.botShare = 0
        if let callShare { profile.callShare = min(1, callShare) }
        // Log-normal visit lengths: mean = median × e^(σ²/2). Pings come every `pingInterval` while the page is
        // open, so a lease ends on average half an interval before the visit does, then the idle TTL.
        let visitMean = meanLeaseSeconds - policy.idleTTL.secondsDouble + profile.pingInterval.secondsDouble / 2
        let median = visitMean / exp(profile.sessionSpread * profile.sessionSpread / 2)
        profile.sessionMedian = .milliseconds(Int64(max(1, median) * 1_000))
        return profile
    }
}
