import CallTrackCore
import Foundation
import Logging
import Store
import Testing
import TestSupport

/// `/stats` in headless Chromium: 30 days of minute buckets for three pools render as a page with its charts;
/// without a token only the login form shows.
@Suite("The statistics page in Chromium", .serialized)
struct StatsPageTests {
    /// 30 days of minutes for three pools: an office-hours day, the busiest pool running full at noon.
    static func thirtyDays(in dataDir: String) async throws {
        let store = PoolStatisticsStore(store: try SQLiteStore(path: dataDir + "/state.sqlite", logger: Logger(label: "test")))
        let now = SystemClock().now()
        let end = now.microsecondsSinceEpoch - now.microsecondsSinceEpoch % 60_000_000
        var random = SeededRandom(seed: 30)
        for (pool, size, scale) in [("acme-main", 120, 1.0), ("lazy-main", 3, 0.1), ("brief-main", 3, 0.05)] {
            var minutes: [PoolMinute] = []
            for n in 0..<(30 * 1_440) {
                let start = Timestamp(microsecondsSinceEpoch: end - Int64(30 * 1_440 - n) * 60_000_000)
                let hour = Int(start.microsecondsSinceEpoch / 3_600_000_000 % 24)
                let rate = TrafficProfile.officeHours[hour] / 12 * 3 * scale
                var m = PoolMinute(poolID: pool, start: start)
                m.size = size
                m.sessions = random.poisson(mean: rate)
                let live = min(size, Int((rate * 35).rounded()))
                m.exhaustions = live >= size ? m.sessions / 4 : 0
                m.allocations = m.sessions - m.exhaustions
                m.liveSum = live
                m.liveSamples = 1
                m.livePeak = min(size, live + 2)
                m.cooldownSeconds = 900
                if random.chance(0.05 * scale) { m.calls[.exact] = 1 }
                if random.chance(0.004 * scale) { m.calls[.shared] = 1 }
                if random.chance(0.004 * scale) {
                    m.calls[.late] = 1
                    m.lateGaps = [Double.random(in: 60...1_500, using: &random)]
                }
                minutes.append(m)
            }
            try await store.add(minutes)
        }
        // As the daemon keeps them: a month of minutes (older ones as hours).
        _ = try await store.compact(now: Timestamp(microsecondsSinceEpoch: end), minutesKept: .seconds(30 * 86_400), hoursKept: .seconds(400 * 86_400))
    }

    /// Polls `condition` in the page (which has no test harness of its own) for up to 15 s.
    static func wait(_ browser: BrowserSession, until condition: String) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if (try? await browser.evaluate("return !!(\(condition));", as: Bool.self)) == true { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("with a read token (through the login form) the page shows every pool's sentence and three charts each; without it only the form")
    func rendersWithCharts() async throws {
        try await SnippetLab.with(prepare: { try await Self.thirtyDays(in: $0) }) { lab in
            let stranger = try await lab.browser()
            try await stranger.open("\(lab.daemon)/stats")
            #expect(try await Self.wait(stranger, until: "document.querySelector('form[action=\"/stats/login\"]') !== null"))
            let strangerCharts: Int = try await stranger.evaluate("return document.querySelectorAll('svg.chart').length;")
            #expect(strangerCharts == 0)

            let browser = try await lab.browser()
            try await browser.open("\(lab.daemon)/stats")
            #expect(try await Self.wait(browser, until: "document.querySelector('input[name=token]') !== null"))
            _ = try await browser.evaluate(
                "document.querySelector('input[name=token]').value = '\(SnippetLab.adminToken)'; document.querySelector('form').submit(); return true;",
                as: Bool.self)
            #expect(try await Self.wait(browser, until: "document.querySelectorAll('svg.chart').length === 12"), "four pools, three charts each")
            let sentences: [String] = try await browser.evaluate("return Array.from(document.querySelectorAll('.sentence')).map(function (e) { return e.textContent; });")
            #expect(sentences.count == 4)
            #expect(sentences.first?.hasPrefix("Pool acme-main needs ") == true, "\(sentences)")
            // Drawn on the server: the page runs no script, so nothing can throw in the console.
            let scripts: Int = try await browser.evaluate("return document.scripts.length;")
            #expect(scripts == 0)
            let bars: Int = try await browser.evaluate("return document.querySelectorAll('svg.chart rect').length;")
            #expect(bars > 100, "the charts have data in them")
            if let folder = ProcessInfo.processInfo.environment["CALLTRACKD_SCREENSHOTS"] {
                try await browser.screenshot().write(to: URL(fileURLWithPath: "\(folder)/stats.png"))
            }
        }
    }

    @Test("the front page: what is set up, each pool's live leases, links onward; no visitor or caller in it")
    func frontPage() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await browser.open("\(lab.daemon)/?x=1")
            #expect(try await Self.wait(browser, until: "document.querySelector('h1') && document.querySelector('h1').textContent === 'calltrackd is running'"))
            let text: String = try await browser.evaluate("return document.body.innerText;")
            #expect(text.contains("acme-main") && text.contains("of 40 live"), "\(text)")
            #expect(text.contains("not configured (ami.host)"))
            let links: [String] = try await browser.evaluate("return Array.from(document.querySelectorAll('a')).map(function (a) { return a.getAttribute('href'); });")
            #expect(links.contains("/stats") && links.contains("/metrics"))
            if let folder = ProcessInfo.processInfo.environment["CALLTRACKD_SCREENSHOTS"] {
                try await browser.screenshot().write(to: URL(fileURLWithPath: "\(folder)/front.png"))
            }
        }
    }
}
