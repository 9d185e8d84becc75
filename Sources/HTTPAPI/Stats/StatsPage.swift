import CallTrackCore
import Foundation
import Hummingbird
import NIOCore

/// `GET /stats`: the pool statistics as a page a person reads (on a phone too), drawn on the server. It needs a
/// token of scope `read` (or `admin`): a login form (`POST /stats/login`) sets it as an HttpOnly cookie, never in a
/// URL; scripts may send `Authorization: Bearer` instead.
struct StatsPage {
    let desk: SessionDesk
    let statistics: any PoolHistory
    let tokens: [APIToken]

    static let cookie = "calltrackd_token"

    func register(on router: Router<APIContext>) {
        router.get("/stats") { request, _ in
            guard authorised(request) else { return html(Self.login(error: nil), status: .unauthorized) }
            let query = try StatsQuery(request, now: desk.clock.now(), book: desk.book)
            let buckets = Dictionary(grouping: try await query.buckets(in: statistics), by: \.poolID)
            return html(page(query: query, buckets: buckets))
        }
        router.post("/stats/login") { request, _ in
            let body = try await request.body.collect(upTo: 4_096)
            let form = String(buffer: body)
            let token = form.split(separator: "&").compactMap { pair -> String? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0] == "token" else { return nil }
                return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }.first ?? ""
            guard let granted = APIToken.match(Array(token.utf8), in: tokens), granted.scope.grants(.read) else {
                return html(Self.login(error: "That token is not one this daemon accepts for the statistics (scope read or admin)."), status: .unauthorized)
            }
            let value = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response(status: .seeOther, headers: [
                .location: "/stats",
                .setCookie: "\(Self.cookie)=\(value); Path=/stats; HttpOnly; SameSite=Strict; Max-Age=43200",
            ])
        }
    }

    /// A read (or admin) token in the cookie or in `Authorization: Bearer`.
    func authorised(_ request: Request) -> Bool {
        var presented: [String] = []
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { presented.append(String(header.dropFirst(7))) }
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == Self.cookie, let value = String(parts[1]).removingPercentEncoding { presented.append(value) }
            }
        }
        return presented.contains { APIToken.match(Array($0.utf8), in: tokens)?.scope.grants(.read) == true }
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let style = """
        body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:780px;padding:12px;color:#222}
        h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-top:1px solid #ddd;padding-top:14px}
        .sentence{font-size:17px;background:#f3f7ff;border-left:4px solid #3366cc;padding:8px 12px}
        table{border-collapse:collapse;width:100%;font-size:14px}td{padding:3px 6px;border-bottom:1px solid #eee}
        td:last-child{text-align:right}svg.chart{width:100%;height:auto;margin:6px 0 14px}h3{font-size:15px;margin:14px 0 0}
        form{display:flex;gap:8px;flex-wrap:wrap}input[type=password]{flex:1;min-width:220px;padding:6px}
        """

    static func login(error: String?) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>calltrackd statistics</title><style>\(style)</style></head><body>
        <h1>calltrackd statistics</h1>
        <p>Enter a token of scope <code>read</code> or <code>admin</code> (<code>calltrackd new-token --name me --scope read</code>).
        It is kept in a cookie for this page only, for 12 hours.</p>
        \(error.map { "<p class=\"sentence\">\(SVGChart.escape($0))</p>" } ?? "")
        <form method="post" action="/stats/login"><input type="password" name="token" autocomplete="current-password" aria-label="token" required>
        <button type="submit">Show the statistics</button></form>
        </body></html>
        """
    }

    func page(query: StatsQuery, buckets: [String: [PoolMinute]]) -> String {
        var body = ""
        let days = max(1, Int(((query.to - query.from).secondsDouble / 86_400).rounded()))
        for (site, pool) in query.pools {
            let own = buckets[pool] ?? []
            let summary = PoolStatsSummary(poolID: pool, buckets: own, from: query.from, to: query.to)
            let series = query.hourly ? PoolMinute.hours(own) : own.filter { $0.seconds == 60 }
            let times = series.map(\.start)
            let percent = { (p: Double) in String(format: "%.1f%%", p * 100) }
            body += """
                <h2>Pool \(SVGChart.escape(pool)) <small>(site \(SVGChart.escape(site)))</small></h2>
                <p class="sentence">\(SVGChart.escape(summary.sentence))</p>
                <table>
                <tr><td>Visits</td><td>\(summary.sessions)</td></tr>
                <tr><td>Found the pool full (default number shown)</td><td>\(summary.exhaustions) (\(percent(summary.exhaustionRate)))</td></tr>
                <tr><td>Utilisation p50 / p95 / p99 / peak</td><td>\(["p50", "p95", "p99", "peak"].map { percent(summary.utilisation[$0] ?? 0) }.joined(separator: " / "))</td></tr>
                <tr><td>Calls on its numbers</td><td>\(summary.callsOnPool)</td></tr>
                <tr><td>Collision rate (two visits on the number)</td><td>\(percent(summary.collisionRate))</td></tr>
                <tr><td>Late calls / unmatched</td><td>\(percent(summary.lateRate)) / \(percent(summary.unmatchedRate))</td></tr>
                <tr><td>Busiest hour: visits × mean holding</td><td>\(Int(summary.busiestHourArrivals)) × \(Int(summary.meanHoldingSeconds / 60)) min = \(String(format: "%.1f", summary.offeredLoad)) erlangs</td></tr>
                <tr><td>Numbers for &lt; 1% / &lt; 0.1% exhaustion</td><td>\(summary.recommendedFor1Percent) / \(summary.recommendedFor01Percent)</td></tr>
                <tr><td>Cooldown that catches 99% of late calls</td><td>\(summary.cooldownNeededSeconds.map { "\(Int(($0 / 60).rounded(.up))) min" } ?? "no late calls")</td></tr>
                </table>
                <h3>Live leases and pool size</h3>
                \(SVGChart.draw(title: "Live leases of \(pool) against its size", times: times, series: [
                    .init(name: "live (mean)", color: "#3366cc", values: series.map(\.liveMean), line: true),
                    .init(name: "live (peak)", color: "#99b3e6", values: series.map { Double($0.livePeak) }, line: true),
                    .init(name: "size", color: "#222222", values: series.map { Double($0.size) }, line: true),
                    .init(name: "recommended", color: "#dc3912", values: series.map { _ in Double(summary.recommendedFor1Percent) }, line: true),
                ]))
                <h3>Visits and full-pool answers</h3>
                \(SVGChart.draw(title: "Visits and exhaustions of \(pool)", times: times, series: [
                    .init(name: "leased", color: "#109618", values: series.map { Double($0.allocations) }, line: false),
                    .init(name: "pool full", color: "#dc3912", values: series.map { Double($0.exhaustions) }, line: false),
                ]))
                <h3>Calls by match</h3>
                \(SVGChart.draw(title: "Calls on \(pool) by how they matched", times: times, series: [
                    .init(name: "exact", color: "#109618", values: series.map { Double($0.calls[.exact] ?? 0) }, line: false),
                    .init(name: "shared", color: "#ff9900", values: series.map { Double($0.calls[.shared] ?? 0) }, line: false),
                    .init(name: "late", color: "#990099", values: series.map { Double($0.calls[.late] ?? 0) }, line: false),
                    .init(name: "repeat", color: "#0099c6", values: series.map { Double($0.calls[.repeat] ?? 0) }, line: false),
                    .init(name: "unmatched", color: "#dc3912", values: series.map { Double($0.calls[.unmatched] ?? 0) }, line: false),
                ]))
                """
        }
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>calltrackd statistics</title><style>\(Self.style)</style></head><body>
            <h1>Pool statistics</h1>
            <p>The last \(days) day\(days == 1 ? "" : "s") to \(query.to.iso8601.prefix(16).replacingOccurrences(of: "T", with: " ")) UTC, \(query.hourly ? "hour" : "minute") by \(query.hourly ? "hour" : "minute"). Counts go up to the last finished minute. JSON: <code>GET /v1/admin/stats</code>.</p>
            \(body.isEmpty ? "<p>No pools configured.</p>" : body)
            </body></html>
            """
    }
}
