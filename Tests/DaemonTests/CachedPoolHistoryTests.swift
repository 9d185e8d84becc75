import CallTrackApp
import CallTrackCore
import Logging
import Store
import Synchronization
import Testing
import TestSupport

/// The daemon's pool statistics with whole hours held in memory answer exactly as the store does, after new
/// minutes land (in the hour in progress and, late, in a finished one), after a roll-up and after retention;
/// and a repeated period reads only its partial hours from the store.
@Suite("Pool statistics with hours held in memory")
struct CachedPoolHistoryTests {
    /// 2027-01-15T00:00:00Z, an hour's start.
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)

    static func minute(_ pool: String, _ n: Int64, sessions: Int = 1) -> PoolMinute {
        var m = PoolMinute(poolID: pool, start: t0 + .seconds(n * 60))
        m.size = 10
        m.sessions = sessions + Int(n % 7)
        m.allocations = m.sessions
        m.liveSum = Int(n % 11)
        m.liveSamples = 1
        m.livePeak = Int(n % 11) + 1
        m.cooldownSeconds = 900
        if n % 13 == 0 { m.calls = [.exact: 1] }
        if n % 97 == 0 {
            m.calls[.late] = 1
            m.lateGaps = [Double(n % 600)]
        }
        return m
    }

    /// The store underneath, counting the whole hours it is asked for.
    final class CountingHistory: PoolHistory {
        let store: PoolStatisticsStore
        let wholeHoursRead = Mutex(0)
        init(_ store: PoolStatisticsStore) { self.store = store }
        func add(_ buckets: [PoolMinute]) async throws(StoreUnavailable) { try await store.add(buckets) }
        func compact(now: Timestamp, minutesKept: Duration, hoursKept: Duration) async throws(StoreUnavailable) -> Int {
            try await store.compact(now: now, minutesKept: minutesKept, hoursKept: hoursKept)
        }
        func buckets(pools: Set<String>?, from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute] {
            try await store.buckets(pools: pools, from: from, to: to)
        }
        func hours(pools: [String], from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [PoolMinute] {
            let whole = PoolHourCache.wholeHours(from: from, to: to)
            wholeHoursRead.withLock { $0 += pools.count * Int((whole.upperBound - whole.lowerBound).components.seconds / 3_600) }
            return try await store.hours(pools: pools, from: from, to: to)
        }
    }

    @Test("answers equal the store's after minutes land, a late minute, a roll-up and retention; a repeated period reads only its partial hours")
    func sameAnswersAsTheStore() async throws {
        let dir = TemporaryDirectory("cached-pool-history")
        defer { dir.remove() }
        let store = PoolStatisticsStore(store: try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test")))
        let counting = CountingHistory(store)
        let clock = ManualClock(at: Self.t0 + .seconds(3 * 86_400 + 30 * 60 + 5))
        let cached = CachedPoolHistory(store: counting, clock: clock)
        let pools = ["main", "spare"]
        // Three days and half an hour of minutes for two pools.
        for pool in pools {
            try await cached.add((0..<Int64(3 * 1_440 + 30)).map { Self.minute(pool, $0, sessions: pool == "main" ? 3 : 1) })
        }
        func periods() -> [(Timestamp, Timestamp)] {
            let now = clock.now()
            return [(now - .seconds(2 * 86_400), now), (now - .seconds(86_400 + 17 * 60), now - .seconds(3_600)),
                    (Self.t0, now), (Self.t0 + .seconds(3_600 + 600), Self.t0 + .seconds(3_600 + 1_800)),
                    (now - .seconds(3 * 86_400), now + .seconds(3 * 3_600))]
        }
        func expectSame(_ step: String) async throws {
            for (from, to) in periods() {
                for asked in [pools, ["spare"]] {
                    let expected = try await store.hours(pools: asked, from: from, to: to)
                    #expect(try await cached.hours(pools: asked, from: from, to: to) == expected, "\(step): \(asked) \(from)–\(to)")
                    #expect(try await cached.hours(pools: asked, from: from, to: to) == expected, "\(step), again: \(asked) \(from)–\(to)")
                }
            }
        }
        try await expectSame("first reads")

        // Held now: asked again, the store is asked for no whole hour.
        let (from, to) = (clock.now() - .seconds(2 * 86_400), clock.now())
        let before = counting.wholeHoursRead.withLock { $0 }
        _ = try await cached.hours(pools: pools, from: from, to: to)
        #expect(counting.wholeHoursRead.withLock { $0 } == before)

        // The minutes of the next hour and a half land; the clock moves on.
        for pool in pools {
            try await cached.add((Int64(3 * 1_440 + 30)..<Int64(3 * 1_440 + 120)).map { Self.minute(pool, $0, sessions: 5) })
        }
        _ = clock.advance(by: .seconds(90 * 60))
        try await expectSame("after new minutes")

        // A late minute in a finished hour (an earlier flush that failed): summed into it.
        try await cached.add([Self.minute("main", 1_440 + 61, sessions: 40)])
        try await expectSame("after a late minute")

        // The roll-up (minutes older than a day become hours) and retention (hours older than two days go).
        try await cached.compact(now: clock.now(), minutesKept: .seconds(86_400), hoursKept: .seconds(2 * 86_400))
        try await expectSame("after roll-up and retention")
    }
}
