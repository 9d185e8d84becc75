import CallTrackCore
import Hummingbird
import NIOCore

/// `GET /`: what a newcomer who just started the daemon and opened its address wants to see — what is set up,
/// how full each pool is now, and where to go next. No personal data: no visitor, caller or lead is shown.
struct FrontPage {
    let desk: SessionDesk
    /// What the app configured, a line each ("Asterisk (AMI)": "pbx.example:5038", …).
    let setup: [APISettings.SetupLine]

    func register(on router: Router<APIContext>) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: page(pools: desk.book.snapshot(at: desk.clock.now())))))
        }
    }

    func page(pools: [LeaseBook.PoolSnapshot]) -> String {
        let escape = SVGChart.escape
        let sites = desk.book.allSites
        let siteRows = sites.map { site in
            "<tr><td>\(escape(site.id))</td><td>\(site.pools.count) pool\(site.pools.count == 1 ? "" : "s"), \(site.staticNumbers.count) static</td><td>\(escape(site.defaultNumber.e164))</td></tr>"
        }.joined()
        let poolRows = pools.map { pool in
            "<tr><td>\(escape(pool.poolID))</td><td>\(escape(pool.siteID))</td><td>\(pool.live) of \(pool.size) live, \(pool.free) free</td></tr>"
        }.joined()
        let setupRows = setup.map { "<tr><td>\(escape($0.name))</td><td>\(escape($0.value))</td></tr>" }.joined()
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>calltrackd</title><style>\(StatsPage.style)</style></head><body>
            <h1>calltrackd is running</h1>
            <p>It leases tracking numbers to website visits and tells which visit and advert brought each call.</p>
            <h2>Set up</h2><table>\(setupRows)</table>
            <h2>Sites</h2>\(sites.isEmpty ? "<p>No site yet: add one to the config file (see deploy/calltrackd.example.yaml) or through the admin API.</p>" : "<table>\(siteRows)</table>")
            <h2>Pools now</h2>\(pools.isEmpty ? "<p>No pool.</p>" : "<table>\(poolRows)</table>")
            <h2>Where next</h2>
            <ul>
            <li><a href="/stats">Pool statistics</a>: how many numbers each pool needs (a token of scope read)</li>
            <li><a href="/metrics">Prometheus metrics</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li>
            <li>The HTTP API: <code>docs/openapi.yaml</code>; the snippet for your pages: <code>docs/snippet.md</code>;
            everything else: <code>README.md</code> in the calltrackd repository</li>
            </ul>
            </body></html>
            """
    }
}
