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
    /// For each byte, the needles that start with it: one pass over the user agent tries only those.
    private let needlesByFirstByte: [[Int]]

    public init(patterns: [String] = BotDetector.defaultPatterns) {
        self.patterns = patterns.map { $0.lowercased() }
        needles = self.patterns.map { Array($0.utf8) }.filter { !$0.isEmpty }
        var byFirst = [[Int]](repeating: [], count: 256)
        for (index, needle) in needles.enumerated() { byFirst[Int(needle[0])].append(index) }
        needlesByFirstByte = byFirst
    }

    /// An absent or empty user agent is a script, not a person's browser.
    public func isBot(userAgent: String?) -> Bool {
        guard let userAgent, !userAgent.isEmpty else { return true }
        // Byte search over an ASCII-lowercased copy: user agents are ASCII in practice, and a non-ASCII
        // byte simply never matches an ASCII pattern.
        var haystack = Array(userAgent.utf8.prefix(1024))
        for index in haystack.indices where haystack[index] &- 65 < 26 { haystack[index] |= 0x20 }
        // CUBOT is a phone brand ("Android 9; CUBOT X19"): its owners are people, not "bot"s.
        Self.blank(Self.cubot, in: &haystack)
        return haystack.withUnsafeBufferPointer { bytes in
            for start in bytes.indices {
                for needle in needlesByFirstByte[Int(bytes[start])] where Self.matches(needles[needle], in: bytes, at: start) {
                    return true
                }
            }
            return false
        }
    }

    private static let cubot = Array("cubot".utf8)

    /// Left to right, in place: a blanked word leaves spaces, which start no new match.
    private static func blank(_ word: [UInt8], in haystack: inout [UInt8]) {
        haystack.withUnsafeMutableBufferPointer { bytes in
            var start = 0
            while start < bytes.count {
                guard bytes[start] == word[0], matches(word, in: UnsafeBufferPointer(bytes), at: start) else {
                    start += 1
                    continue
                }
                for index in start..<start + word.count { bytes[index] = 0x20 }
                start += word.count
            }
        }
    }

    private static func matches(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard haystack.count - start >= needle.count else { return false }
        return needle.withUnsafeBufferPointer { needle in
            for offset in 1..<needle.count where haystack[start + offset] != needle[offset] { return false }
            return true
        }
    }
}
