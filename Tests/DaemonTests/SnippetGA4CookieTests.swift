import CallTrackCore
import Foundation
import GRDB
import Testing

/// The snippet reads GA4's session id from the `_ga_<container-id>` cookies a real page carries and sends it with
/// the visit; the daemon stores it with the visit, for the GA4 events of the visit's calls (docs/analytics.md).
@Suite(.serialized, .enabled(if: Browser.available, "chromium or chromedriver is not installed: run scripts/setup"))
struct SnippetGA4CookieTests {
    @Test("a page with _ga and _ga_<container-id> cookies (GS2 and GS1): the visit is stored with the client id and the first stream's session id")
    func gaSessionIDTravelsWithTheVisit() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "ga4.html")
            let sessionID = try #require(try await SnippetBrowserTests.state(browser)?.session_id)
            let cookies: String = try await browser.evaluate("return document.cookie;")
            #expect(cookies.contains("_ga_ABC123XYZ9=GS2.1."), "the page really carries the cookies: \(cookies)")

            var configuration = Configuration()
            configuration.readonly = true
            let database = try DatabaseQueue(path: lab.dir.file("data/state.sqlite"), configuration: configuration)
            let row = try database.read { db in
                try Row.fetchOne(db, sql: "SELECT ga_client_id, ga_session_id FROM session WHERE id = ?", arguments: [sessionID])
            }
            let stored = try #require(row, "the visit \(sessionID) is stored")
            #expect(stored["ga_client_id"] as String? == "1234567890.1789990000")
            #expect(stored["ga_session_id"] as String? == "1789999123", "the number after `s` of the first _ga_<id> cookie (GS2)")
            let metrics = try await lab.metrics()
            #expect(!metrics.contains(#"calltrackd_snippet_bad_values_total{field="ga_session_id"} 1"#), "nothing was dropped")
        }
    }
}
