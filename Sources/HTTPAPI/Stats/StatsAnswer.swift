import CallTrackCore

/// The JSON of `GET /v1/admin/stats` (snake_case, ISO 8601 times).
public struct StatsAnswer: Encodable, Sendable {
    var from: String
    var to: String
    var step: String
    var pools: [PoolStats]

    /// The answer for `pools` over [from, to) from their buckets (as `PoolHistory.hours` or `buckets` read them):
    /// each pool's summary, and with `series` the buckets behind it by the hour or the minute.
    public init(pools: [(site: String, pool: String)], from: Timestamp, to: Timestamp, hourly: Bool, series: Bool, buckets: [PoolMinute]) {
        let byPool = Dictionary(grouping: buckets, by: \.poolID)
        self.from = APITime.format(from)
        self.to = APITime.format(to)
        step = hourly ? "hour" : "minute"
        self.pools = pools.map { site, pool in
            let own = byPool[pool] ?? []
            return PoolStats(
                pool_id: pool, site_id: site,
                summary: .init(PoolStatsSummary(poolID: pool, buckets: own, from: from, to: to)),
                series: series ? (hourly ? PoolMinute.hours(own) : own.filter { $0.seconds == 60 }).map(Bucket.init) : nil)
        }
    }

    struct PoolStats: Encodable, Sendable {
        var pool_id: String
        var site_id: String
        var summary: Summary
        /// Only when the request names a site or a pool (`StatsQuery.series`); absent otherwise.
        var series: [Bucket]?
    }

    struct Summary: Encodable, Sendable {
        var sentence: String
        var size: Int
        var sessions: Int
        var allocations: Int
        var exhaustions: Int
        var calls_on_pool: Int
        var utilisation: [String: Double]
        var exhaustion_rate: Double
        var collision_rate: Double
        var late_rate: Double
        var unmatched_rate: Double
        var busiest_hour: String?
        var busiest_hour_arrivals: Double
        var mean_holding_seconds: Double
        var offered_load_erlangs: Double
        var recommended_size_1_percent: Int
        var recommended_size_0_1_percent: Int
        var cooldown_needed_seconds: Double?

        init(_ s: PoolStatsSummary) {
            sentence = s.sentence
            size = s.size
            sessions = s.sessions
            allocations = s.allocations
            exhaustions = s.exhaustions
            calls_on_pool = s.callsOnPool
            utilisation = s.utilisation
            exhaustion_rate = s.exhaustionRate
            collision_rate = s.collisionRate
            late_rate = s.lateRate
            unmatched_rate = s.unmatchedRate
            busiest_hour = s.busiestHour.map(APITime.format)
            busiest_hour_arrivals = s.busiestHourArrivals
            mean_holding_seconds = s.meanHoldingSeconds
            offered_load_erlangs = s.offeredLoad
            recommended_size_1_percent = s.recommendedFor1Percent
            recommended_size_0_1_percent = s.recommendedFor01Percent
            cooldown_needed_seconds = s.cooldownNeededSeconds
        }
    }

    struct Bucket: Encodable, Sendable {
        var start: String
        var size: Int
        var live_mean: Double
        var live_peak: Int
        var sessions: Int
        var allocations: Int
        var shared: Int
        var exhaustions: Int
        var calls: Calls

        /// The calls by match kind the bucket has: a struct rather than a `[String: Int]`, which the encoder
        /// builds and sorts as a dictionary for every bucket.
        struct Calls: Encodable, Sendable {
            var exact: Int?
            var shared: Int?
            var late: Int?
            var `repeat`: Int?
            var `static`: Int?
            var unmatched: Int?

            init(_ calls: [MatchKind: Int]) {
                exact = calls[.exact]
                shared = calls[.shared]
                late = calls[.late]
                self.repeat = calls[.repeat]
                self.static = calls[.static]
                unmatched = calls[.unmatched]
            }
        }

        init(_ b: PoolMinute) {
            start = APITime.format(b.start)
            size = b.size
            live_mean = b.liveMean
            live_peak = b.livePeak
            sessions = b.sessions
            allocations = b.allocations
            shared = b.shared
            exhaustions = b.exhaustions
            calls = Calls(b.calls)
        }
    }
}
