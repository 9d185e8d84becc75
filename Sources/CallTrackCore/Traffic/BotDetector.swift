/// Recognises crawlers and scripts by user agent: they never take a pool number (SPEC §Allocation 5).
public struct BotDetector: Hashable, Sendable {
    /// Lowercased substrings; a user agent containing any of them is a bot. `curl` is not one:
    /// the README demo allocates with curl, and a site that wants it blocked can add it.
    public let patterns: [String]

    public static let defaultPatterns = [
        "bot", "crawl", "spider", "slurp", "headlesschrome", "phantomjs", "lighthouse", "pagespeed",
        "python-requests", "python-urllib", "go-http-client", "java/", "okhttp", "wget", "scrapy",
        "httpclient", "facebookexternalhit", "preview", "monitor", "uptime",
    ]

    /// The patterns as ASCII-lowercased bytes: matching runs on every allocation, inside the lease book.
    private let needles: [[UInt8]]

    public init(patterns: [String] = BotDetector.defaultPatterns) {
        self.patterns = patterns.map { $0.lowercased() }
        needles = self.patterns.map { Array($0.utf8) }.filter { !$0.isEmpty }
    }

    /// An absent or empty user agent is a script, not a person's browser.
    public func isBot(userAgent: String?) -> Bool {
        guard let userAgent, !userAgent.isEmpty else { return true }
        // Byte search over an ASCII-lowercased copy: user agents are ASCII in practice, and a non-ASCII
        // byte simply never matches an ASCII pattern.
        var haystack = Array(userAgent.utf8.prefix(1024))
        for index in haystack.indices where haystack[index] &- 65 < 26 { haystack[index] |= 0x20 }
        return needles.contains { Self.contains(haystack, $0) }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            start += 1
        }
        return false
    }
}
