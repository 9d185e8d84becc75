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
    /// Keyed by the IP and by the visitor id as they come: no key is built per request.
    private var ipBuckets: [String: Bucket] = [:]
    private var visitorBuckets: [String: Bucket] = [:]
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
        guard Self.refill(&visitorBuckets[visitor, default: Bucket(tokens: perVisitor.burst, updated: now)], perVisitor, now) >= 1 else {
            return false
        }
        if let ip {
            guard Self.refill(&ipBuckets[ip, default: Bucket(tokens: perIP.burst, updated: now)], perIP, now) >= 1 else { return false }
            ipBuckets[ip]!.tokens -= 1
        }
        visitorBuckets[visitor]!.tokens -= 1
        return true
    }

    public var trackedClients: Int { ipBuckets.count + visitorBuckets.count }

    /// Adds the tokens earned since the last visit; returns what the bucket holds now.
    private static func refill(_ bucket: inout Bucket, _ limit: Limit, _ now: Timestamp) -> Double {
        let minutes = max(0, (now - bucket.updated).secondsDouble / 60)
        bucket.tokens = min(limit.burst, bucket.tokens + minutes * limit.perMinute)
        bucket.updated = now
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
        ipBuckets = ipBuckets.filter { $0.value.updated > horizon }
        visitorBuckets = visitorBuckets.filter { $0.value.updated > horizon }
    }
}
