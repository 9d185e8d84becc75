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
        // One lookup per bucket when admitted (this runs on every allocation): the visitor's token is
        // taken first and given back if the IP has none.
        guard Self.take(&visitorBuckets[visitor, default: Bucket(tokens: perVisitor.burst, updated: now)], perVisitor, now) else {
            return false
        }
        if let ip, !Self.take(&ipBuckets[ip, default: Bucket(tokens: perIP.burst, updated: now)], perIP, now) {
            visitorBuckets[visitor]!.tokens += 1
            return false
        }
        return true
    }

    public var trackedClients: Int { ipBuckets.count + visitorBuckets.count }

    /// Adds the tokens earned since the last visit, then takes one if there is one.
    private static func take(_ bucket: inout Bucket, _ limit: Limit, _ now: Timestamp) -> Bool {
        let minutes = max(0, (now - bucket.updated).secondsDouble / 60)
        bucket.tokens = min(limit.burst, bucket.tokens + minutes * limit.perMinute)
        bucket.updated = now
        guard bucket.tokens >= 1 else { return false }
        bucket.tokens -= 1
        return true
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
