import CallTrackCore
import Foundation
import Hummingbird

/// `GET /v1/admin/stats`: per pool, the figures ops size the pool by (a summary with the sentence to read
/// first) and the series behind them, minute by minute or hour by hour. Counts go up to the last minute the
/// daemon finished (written once a minute).
struct StatsRoutes {
    let desk: SessionDesk
    let statistics: any PoolHistory

    func register(on admin: RouterGroup<APIContext>) {
        admin.get("/stats") { request, _ in
            let query = try StatsQuery(request, now: desk.clock.now(), book: desk.book)
            let buckets = try await query.buckets(in: statistics)
            let byPool = Dictionary(grouping: buckets, by: \.poolID)
            let answer = StatsAnswer(
                from: APITime.format(query.from), to: APITime.format(query.to), step: query.hourly ? "hour" : "minute",
                pools: query.pools.map { site, pool in
                    let own = byPool[pool] ?? []
                    let series = query.hourly ? PoolMinute.hours(own) : own.filter { $0.seconds == 60 }
                    return StatsAnswer.PoolStats(
                        pool_id: pool, site_id: site,
                        summary: .init(PoolStatsSummary(poolID: pool, buckets: own, from: query.from, to: query.to)),
                        series: series.map(StatsAnswer.Bucket.init))
                })
            return try jsonResponse(answer)
        }
    }
}

extension StatsQuery {
    /// The asked pools' buckets: by the hour (whole hours as stored rolled up), or every minute.
    func buckets(in statistics: any PoolHistory) async throws(StoreUnavailable) -> [PoolMinute] {
        hourly ? try await statistics.hours(pools: pools.map(\.pool), from: from, to: to)
            : try await statistics.buckets(pools: Set(pools.map(\.pool)), from: from, to: to)
    }
}

/// `?site=&pool=&from=&to=&step=`, checked: the pools asked for (every pool of the site, or all), a period (the
/// last 7 days unless given) and the step (minute up to two days, else hour, unless given).
struct StatsQuery {
    var pools: [(site: String, pool: String)]
    var from: Timestamp
    var to: Timestamp
    var hourly: Bool

    init(_ request: Request, now: Timestamp, book: LeaseBook) throws {
        let parameters = request.uri.queryParameters
        func time(_ name: String) throws -> Timestamp? {
            guard let text = parameters.get(name) else { return nil }
            guard let time = APITime.parse(text) else {
                throw APIError(.badRequest, "\(name): '\(text)' is not a time: write ISO 8601 with an offset, e.g. 2026-12-01T00:00:00Z")
            }
            return time
        }
        to = try time("to") ?? now
        from = try time("from") ?? to - .seconds(7 * 86_400)
        guard from < to else { throw APIError(.badRequest, "from must be before to") }
        guard to - from <= .seconds(400 * 86_400) else { throw APIError(.badRequest, "a period of at most 400 days: the hours kept") }
        switch parameters.get("step") {
        case nil: hourly = to - from > .seconds(2 * 86_400)
        case "minute": hourly = false
        case "hour": hourly = true
        case let other?: throw APIError(.badRequest, "step: '\(other)' is not a step: write minute or hour")
        }
        let site = parameters.get("site")
        let pool = parameters.get("pool")
        let sites = book.allSites.filter { site == nil || $0.id == site }
        if let site, sites.isEmpty { throw APIError(.notFound, "unknown site '\(site)'") }
        pools = sites.flatMap { s in s.pools.filter { pool == nil || $0.id == pool }.map { (s.id, $0.id) } }
        if let pool, pools.isEmpty { throw APIError(.notFound, "unknown pool '\(pool)'\(site.map { " on site '\($0)'" } ?? "")") }
    }
}

/// The JSON of `GET /v1/admin/stats` (snake_case, ISO 8601 times).
struct StatsAnswer: Encodable {
    var from: String
    var to: String
    var step: String
    var pools: [PoolStats]

    struct PoolStats: Encodable {
        var pool_id: String
        var site_id: String
        var summary: Summary
        var series: [Bucket]
    }

    struct Summary: Encodable {
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

    struct Bucket: Encodable {
        var start: String
        var size: Int
        var live_mean: Double
        var live_peak: Int
        var sessions: Int
        var allocations: Int
        var shared: Int
        var exhaustions: Int
        var calls: [String: Int]

        init(_ b: PoolMinute) {
            start = APITime.format(b.start)
            size = b.size
            live_mean = b.liveMean
            live_peak = b.livePeak
            sessions = b.sessions
            allocations = b.allocations
            shared = b.shared
            exhaustions = b.exhaustions
            calls = Dictionary(uniqueKeysWithValues: b.calls.map { ($0.key.rawValue, $0.value) })
        }
    }
}
