import CallTrackCore
import Foundation
import Testing
import TestSupport

@Suite("Bot detection")
struct BotDetectorTests {
    let detector = BotDetector()

    @Test("crawlers, headless browsers and HTTP libraries are bots", arguments: [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "Wget/1.21.3",
        "Scrapy/2.11 (+https://scrapy.org)",
        "Apache-HttpClient/4.5.13 (Java/17.0.2)",
        "okhttp/4.12.0",
        "UptimeRobot/2.0",
    ])
    func bots(userAgent: String) {
        #expect(detector.isBot(userAgent: userAgent))
    }

    @Test("people's browsers are not bots, and neither is curl (the README demo uses it)", arguments: [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
        "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.210 Mobile Safari/537.36",
        "curl/8.5.0",
    ])
    func people(userAgent: String) {
        #expect(!detector.isBot(userAgent: userAgent))
    }

    @Test("no user agent at all is a script")
    func missing() {
        #expect(detector.isBot(userAgent: nil))
        #expect(detector.isBot(userAgent: ""))
    }

    @Test("custom patterns match case-insensitively")
    func custom() {
        let strict = BotDetector(patterns: BotDetector.defaultPatterns + ["CURL/"])
        #expect(strict.isBot(userAgent: "curl/8.5.0"))
        #expect(!BotDetector(patterns: []).isBot(userAgent: "Googlebot/2.1"))
    }

    @Test("the one-pass matcher agrees with a plain substring search on 20,000 user agents made of pattern pieces")
    func agreesWithPlainSearch() {
        var random = SeededRandom(seed: 5)
        let pieces = ["Mozilla/5.0 ", "(X11; Linux) ", "bot", "Bo", "T", "cu", "CUBOT ", "crawl", "cra", "spider", "Java", "/",
                      "okhttp", "wge", "t", "é", " ", "Preview", "monito", "r", "uptime", "x", "HeadlessChrome", "b"]
        for _ in 0..<20_000 {
            let agent = (0..<Int.random(in: 1...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            #expect(detector.isBot(userAgent: agent) == Self.plainSearch(agent), "\(agent)")
        }
    }

    /// The rule, spelled out: ASCII-lowercase, blank out each "cubot", then look for any pattern.
    static func plainSearch(_ agent: String) -> Bool {
        var text = String(decoding: agent.utf8.map { (65...90).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        while let range = text.range(of: "cubot") { text.replaceSubrange(range, with: "     ") }
        return BotDetector.defaultPatterns.contains { text.contains($0) }
    }
}
