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
            return try jsonResponse(StatsAnswer(pools: query.pools, from: query.from, to: query.to, hourly: query.hourly, series: query.series,
                                                buckets: buckets))
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
    /// Whether the JSON answer has each pool's series: only for the pools a request names by site or pool. Every
    /// pool's hours encoded take far longer than the summaries (20 pools' week, 3,360 hours: tens of ms).
    var series: Bool

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
        series = site != nil || pool != nil
        let sites = book.allSites.filter { site == nil || $0.id == site }
        if let site, sites.isEmpty { throw APIError(.notFound, "unknown site '\(site)'") }
        pools = sites.flatMap { s in s.pools.filter { pool == nil || $0.id == pool }.map { (s.id, $0.id) } }
        if let pool, pools.isEmpty { throw APIError(.notFound, "unknown pool '\(pool)'\(site.map { " on site '\($0)'" } ?? "")") }
    }
}
