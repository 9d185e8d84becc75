/// Limits how many new sessions one IP or one visitor may start, so one client cannot drain a pool.
///
/// A token bucket per key: `burst` sessions at once, refilled at `perMinute`. Buckets of keys
/// idle long enough to be full again are forgotten, so memory follows the active clients.
public struct FloodGuard: Sendable {
    public struct Limit: Hashable, Sendable {
        public var burst: Double
        public var perMinute: Double
        public init(burst: Double, perMinute: Double) {
            self.burst = burst
            self.perMinute = perMinute
        }
    }

    public var perIP: Limit
    public var perVisitor: Limit
    private var buckets: [String: Bucket] = [:]
    private var lastPrune = Timestamp.epoch

    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Timestamp
    }

    public init(perIP: Limit = Limit(burst: 30, perMinute: 20), perVisitor: Limit = Limit(burst: 10, perMinute: 5)) {
        self.perIP = perIP
        self.perVisitor = perVisitor
    }

    /// Takes one token from the IP's and the visitor's buckets; false when either is empty.
    public mutating func admit(ip: String?, visitor: VisitorID, at now: Timestamp) -> Bool {
        pruneIfDue(now)
        let visitorKey = "v:" + visitor
        guard available("v:" + visitor, perVisitor, now) >= 1 else { return false }
        if let ip {
            guard available("i:" + ip, perIP, now) >= 1 else { return false }
            buckets["i:" + ip]!.tokens -= 1
        }
        buckets[visitorKey]!.tokens -= 1
        return true
    }

    public var trackedClients: Int { buckets.count }

    private mutating func available(_ key: String, _ limit: Limit, _ now: Timestamp) -> Double {
        var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
        let minutes = max(0, (now - bucket.updated).secondsDouble / 60)
        bucket.tokens = min(limit.burst, bucket.tokens + minutes * limit.perMinute)
        bucket.updated = now
        buckets[key] = bucket
        return bucket.tokens
    }

    /// A client idle this long is forgotten even if its bucket would not be full yet (seconds).
    static let longestMemory = 7.0 * 86_400

    private mutating func pruneIfDue(_ now: Timestamp) {
        guard now - lastPrune > .seconds(60) else { return }
        lastPrune = now
        let refillMinutes = max(perIP.burst / max(perIP.perMinute, 0.001), perVisitor.burst / max(perVisitor.perMinute, 0.001))
        // Capped: a limit that never refills (perMinute 0) must not overflow the clock arithmetic.
        let horizon = now - .seconds(Int64(min(refillMinutes * 60, Self.longestMemory)) + 1)
        buckets = buckets.filter { $0.value.updated > horizon }
    }
}
