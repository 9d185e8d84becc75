/// What a pool's buckets say over a period: how full it ran, how often it ran out, how often calls found two
/// visits on one number, and the pool size and cooldown its traffic needs.
public struct PoolStatsSummary: Sendable, Hashable, Codable {
    public var poolID: String
    public var size: Int
    public var from: Timestamp
    public var to: Timestamp
    public var sessions: Int
    public var allocations: Int
    public var exhaustions: Int
    public var callsOnPool: Int
    /// Utilisation (live ÷ size) at the 50th, 95th and 99th percentile of the buckets' means, and the peak.
    public var utilisation: [String: Double]
    public var exhaustionRate: Double
    public var collisionRate: Double
    public var lateRate: Double
    public var unmatchedRate: Double
    /// The busiest hour: its start and arrivals; the mean time a number is held per lease (lease and cooldown,
    /// over the whole period); the busiest hour's offered load (erlangs).
    public var busiestHour: Timestamp?
    public var busiestHourArrivals: Double
    public var meanHoldingSeconds: Double
    public var offeredLoad: Double
    /// Erlang B's smallest pool for < 1% and < 0.1% exhaustion at the busiest hour.
    public var recommendedFor1Percent: Int
    public var recommendedFor01Percent: Int
    /// The cooldown that would have caught 99% of the late calls (nil without late calls).
    public var cooldownNeededSeconds: Double?

    /// Summarises `buckets` (one pool's, minutes or hours, any order).
    public init(poolID: String, buckets: [PoolMinute], from: Timestamp, to: Timestamp) {
        self.poolID = poolID
        self.from = from
        self.to = to
        let ordered = buckets.sorted { $0.start < $1.start }
        size = ordered.last?.size ?? 0
        var total = PoolMinute(poolID: poolID, start: from)
        for bucket in ordered { total.add(bucket) }
        sessions = total.sessions
        allocations = total.allocations
        exhaustions = total.exhaustions
        callsOnPool = total.callsOnPool
        // Each minute's utilisation once: a minute's own, an hour's minutes' (per-mille steps) when it kept them.
        var shares: [(share: Double, minutes: Int)] = []
        for bucket in ordered {
            if bucket.minuteUtilisation.isEmpty {
                if let share = bucket.utilisation { shares.append((share, 1)) }
            } else {
                shares += bucket.minuteUtilisation.map { (Double($0.key) / 1_000, $0.value) }
            }
        }
        shares.sort { $0.share < $1.share }
        let minutes = shares.reduce(0) { $0 + $1.minutes }
        func percentile(_ p: Double) -> Double {
            guard minutes > 0 else { return 0 }
            let rank = min(minutes, max(1, Int((Double(minutes) * p).rounded(.up))))
            var seen = 0
            for entry in shares {
                seen += entry.minutes
                if seen >= rank { return entry.share }
            }
            return shares.last?.share ?? 0
        }
        var peak = 0.0
        for bucket in ordered where bucket.size > 0 { peak = max(peak, Double(bucket.livePeak) / Double(bucket.size)) }
        utilisation = ["p50": percentile(0.5), "p95": percentile(0.95), "p99": percentile(0.99), "peak": peak]
        let asked = Double(max(total.allocations + total.exhaustions, 1))
        exhaustionRate = Double(total.exhaustions) / asked
        let calls = Double(max(callsOnPool, 1))
        collisionRate = Double(total.calls[.shared] ?? 0) / calls
        lateRate = Double(total.calls[.late] ?? 0) / calls
        unmatchedRate = Double(total.calls[.unmatched] ?? 0) / calls
        // Little's law: mean lease = lease-seconds held ÷ leases handed out; then the cooldown.
        let leaseSeconds = ordered.reduce(0) { $0 + $1.leaseSeconds }
        meanHoldingSeconds = total.allocations == 0 ? 0 : leaseSeconds / Double(total.allocations) + (ordered.last?.cooldownSeconds ?? 0)
        // The busiest hour (the earliest of equals): arrivals summed per hour, without rolling the buckets up.
        var arrivals: [Int64: Int] = [:]
        for bucket in ordered {
            let start = bucket.start.microsecondsSinceEpoch
            arrivals[start - ((start % 3_600_000_000) + 3_600_000_000) % 3_600_000_000, default: 0] += bucket.sessions
        }
        let busiest = arrivals.min { ($1.value, $0.key) < ($0.value, $1.key) }
        busiestHour = busiest.map { Timestamp(microsecondsSinceEpoch: $0.key) }
        busiestHourArrivals = Double(busiest?.value ?? 0)
        offeredLoad = busiestHourArrivals * meanHoldingSeconds / 3_600
        recommendedFor1Percent = ErlangB.servers(load: offeredLoad, target: 0.01)
        recommendedFor01Percent = ErlangB.servers(load: offeredLoad, target: 0.001)
        let gaps = total.lateGaps.sorted()
        cooldownNeededSeconds = gaps.isEmpty ? nil : gaps[min(gaps.count - 1, Int((Double(gaps.count) * 0.99).rounded(.up)) - 1)]
    }

    /// The sentence a person reads first.
    public var sentence: String {
        let change = recommendedFor1Percent - size
        let advice = change > 0 ? "add \(change)" : change < 0 ? "\(-change) could go" : "it has exactly that"
        let days = max(1, Int(((to - from).secondsDouble / 86_400).rounded()))
        return "Pool \(poolID) needs \(recommendedFor1Percent) numbers for < 1% exhaustion at the busiest hour of the last \(days) day\(days == 1 ? "" : "s") (has \(size)): \(advice)."
    }
}
