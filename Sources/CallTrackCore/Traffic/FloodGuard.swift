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
    /// Buckets touched in the current generation and in the one before; older ones are forgotten whole.
    private var recent = Generation()
    private var older = Generation()
    private var generationStarted = Timestamp.epoch

    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Timestamp
    }

    /// Buckets keyed by a hash of the IP and of the visitor id (`Hasher`, seeded per process, so a client
    /// cannot aim at another's bucket). Keys and buckets are plain data: forgetting a generation of
    /// a million clients clears two tables, and no request's strings are kept alive for minutes. Two clients
    /// whose 64-bit hashes collide would share a bucket: among a million clients, some pair does with a chance of
    /// about 3 in 10^8.
    private struct Generation: Sendable {
        var byIP: [Int: Bucket] = [:]
        var byVisitor: [Int: Bucket] = [:]
        var count: Int { byIP.count + byVisitor.count }

        /// Forgets every client but keeps the tables, with room for as many as `other` holds: a table that
        /// grows to a million clients rehashes them all on the way (50–150 ms).
        mutating func forget(keepingRoomFor other: Generation) {
            byIP.removeAll(keepingCapacity: true)
            byIP.reserveCapacity(other.byIP.count)
            byVisitor.removeAll(keepingCapacity: true)
            byVisitor.reserveCapacity(other.byVisitor.count)
        }
    }

    public init(perIP: Limit = Limit(burst: 30, perMinute: 20), perVisitor: Limit = Limit(burst: 10, perMinute: 5)) {
        self.perIP = perIP
        self.perVisitor = perVisitor
    }

    /// Takes one token from the IP's and the visitor's buckets; false when either is empty.
    public mutating func admit(ip: String?, visitor: VisitorID, at now: Timestamp) -> Bool {
        startGenerationIfDue(now)
        // The visitor's token is taken first and given back if the IP has none.
        let visitorKey = Self.key(visitor)
        guard Self.take(visitorKey, &recent.byVisitor, &older.byVisitor, perVisitor, now) else { return false }
        if let ip, !Self.take(Self.key(ip), &recent.byIP, &older.byIP, perIP, now) {
            recent.byVisitor[visitorKey]!.tokens += 1
            return false
        }
        return true
    }

    public var trackedClients: Int { recent.count + older.count }

    private static func key(_ text: String) -> Int {
        var hasher = Hasher()
        hasher.combine(text)
        return hasher.finalize()
    }

    /// The client's bucket in the current generation (moved from the one before, or full if it is new),
    /// then one token from it.
    private static func take(_ key: Int, _ recent: inout [Int: Bucket], _ older: inout [Int: Bucket], _ limit: Limit, _ now: Timestamp) -> Bool {
        let carried = older.isEmpty ? nil : older.removeValue(forKey: key)
        return take(&recent[key, default: carried ?? Bucket(tokens: limit.burst, updated: now)], limit, now)
    }

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

    /// How long a generation lasts: the time an empty bucket takes to fill again, so a forgotten client
    /// (idle a whole generation at least) would have had a full bucket anyway.
    private var generationLength: Duration {
        let refillMinutes = max(perIP.burst / max(perIP.perMinute, 0.001), perVisitor.burst / max(perVisitor.perMinute, 0.001))
        // Capped: a limit that never refills (perMinute 0) must not overflow the clock arithmetic.
        return .seconds(Int64(min(refillMinutes * 60, Self.longestMemory)) + 1)
    }

    /// Every admit checks first, so when a generation is due, the current one holds only clients last seen
    /// before it ended, and the one before only clients idle for a whole generation since: those go.
    /// Memory follows the clients of the last two generations. The cost is clearing two tables, where
    /// filtering every bucket into new ones stalled allocations for 0.5–0.9 s at a million clients
    /// (`calltrackd-bench flood-guard`), under the lease book's lock.
    private mutating func startGenerationIfDue(_ now: Timestamp) {
        let length = generationLength
        guard now - generationStarted >= length else { return }
        if now - generationStarted >= length * 2 { recent = Generation() }
        swap(&recent, &older)
        recent.forget(keepingRoomFor: older)
        generationStarted = now
    }
}
