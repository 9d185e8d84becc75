/// Recognises crawlers and scripts by user agent: they never take a pool number (SPEC §Allocation 5).
public struct BotDetector: Hashable, Sendable {
    /// Lowercased substrings; a user agent containing any of them is a bot. `curl` is not one:
    /// the README demo allocates with curl, and a site that wants it blocked can add it.
    public var patterns: [String]

    public static let defaultPatterns = [
        "bot", "crawl", "spider", "slurp", "headlesschrome", "phantomjs", "lighthouse", "pagespeed",
        "python-requests", "python-urllib", "go-http-client", "java/", "okhttp", "wget", "scrapy",
        "httpclient", "facebookexternalhit", "preview", "monitor", "uptime",
    ]

    public init(patterns: [String] = BotDetector.defaultPatterns) {
        self.patterns = patterns.map { $0.lowercased() }
    }

    /// An absent or empty user agent is a script, not a person's browser.
    public func isBot(userAgent: String?) -> Bool {
        guard var ua = userAgent?.lowercased(), !ua.isEmpty else { return true }
        // CUBOT is a phone brand ("Android 9; CUBOT X19"): its owners are people, not "bot"s.
        ua = ua.replacing("cubot", with: "")
        return patterns.contains { ua.contains($0) }
    }
}
