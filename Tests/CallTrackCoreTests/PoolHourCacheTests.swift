import CallTrackCore
import Testing

/// The whole hours held in memory for the statistics API: what is held is what was read, a change to an hour
/// drops it, and only finished, recent hours are held.
@Suite("Pool hour cache")
struct PoolHourCacheTests {
    /// 2027-01-15T00:00:00Z, an hour's start.
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)

    static func at(_ hours: Int64, minutes: Int64 = 0) -> Timestamp { t0 + .seconds(hours * 3_600 + minutes * 60) }

    static func hour(_ pool: String, _ n: Int64, sessions: Int = 1) -> PoolMinute {
        var bucket = PoolMinute(poolID: pool, start: at(n), seconds: 3_600)
        bucket.sessions = sessions
        return bucket
    }

    @Test("whole hours of a period: from the first hour starting in it to the start of its last hour")
    func wholeHours() {
        #expect(PoolHourCache.wholeHours(from: Self.at(0), to: Self.at(5)) == Self.at(0)..<Self.at(5))
        #expect(PoolHourCache.wholeHours(from: Self.at(0, minutes: 10), to: Self.at(5, minutes: 20)) == Self.at(1)..<Self.at(5))
        #expect(PoolHourCache.wholeHours(from: Self.at(2, minutes: 10), to: Self.at(2, minutes: 50)).isEmpty)
    }

    @Test("nothing held: the whole range is missing; once kept, a period inside it is all held, a longer one misses only its ends")
    func keepAndLookUp() {
        var cache = PoolHourCache()
        let now = Self.at(48, minutes: 30)
        #expect(cache.lookup(pool: "p", from: Self.at(10), to: Self.at(20)).missing == [Self.at(10)..<Self.at(20)])
        // Hours 10..<20 as the store has them: a bucket for every hour but 15 (no traffic).
        let stored = (10..<20).filter { $0 != 15 }.map { Self.hour("p", $0, sessions: Int($0)) }
        cache.keep(stored, pool: "p", from: Self.at(10), to: Self.at(20), readAt: cache.generation, now: now)

        let inside = cache.lookup(pool: "p", from: Self.at(12), to: Self.at(18))
        #expect(inside.missing.isEmpty)
        #expect(inside.held.map(\.sessions) == [12, 13, 14, 16, 17])
        let wider = cache.lookup(pool: "p", from: Self.at(8), to: Self.at(22))
        #expect(wider.missing == [Self.at(8)..<Self.at(10), Self.at(20)..<Self.at(22)])
        #expect(wider.held.count == 9)
        #expect(cache.lookup(pool: "other", from: Self.at(12), to: Self.at(18)).missing == [Self.at(12)..<Self.at(18)])

        // The missing ends read and kept: the window grows to cover them.
        cache.keep([Self.hour("p", 8), Self.hour("p", 9)], pool: "p", from: Self.at(8), to: Self.at(10), readAt: cache.generation, now: now)
        cache.keep([Self.hour("p", 21)], pool: "p", from: Self.at(20), to: Self.at(22), readAt: cache.generation, now: now)
        let grown = cache.lookup(pool: "p", from: Self.at(8), to: Self.at(22))
        #expect(grown.missing.isEmpty)
        #expect(grown.held.map(\.start) == ([8, 9] + (10..<20).filter { $0 != 15 } + [21]).map { Self.at($0) })

        // A period apart from the window replaces it.
        cache.keep([Self.hour("p", 40)], pool: "p", from: Self.at(40), to: Self.at(42), readAt: cache.generation, now: now)
        #expect(cache.lookup(pool: "p", from: Self.at(40), to: Self.at(42)).missing.isEmpty)
        #expect(cache.lookup(pool: "p", from: Self.at(12), to: Self.at(18)).missing == [Self.at(12)..<Self.at(18)])
    }

    @Test("an unfinished hour (now's or later) and hours older than the span are never held")
    func onlyFinishedAndRecent() {
        var cache = PoolHourCache(span: .seconds(24 * 3_600))
        let now = Self.at(48, minutes: 30)
        cache.keep((20..<50).map { Self.hour("p", $0) }, pool: "p", from: Self.at(20), to: Self.at(50), readAt: cache.generation, now: now)
        // Held: 25..<48 (the first whole hour within 24 h of now, up to now's hour).
        #expect(cache.lookup(pool: "p", from: Self.at(20), to: Self.at(50)).missing == [Self.at(20)..<Self.at(25), Self.at(48)..<Self.at(50)])
    }

    @Test("minutes added to an hour drop it and the later hours of the window; other pools and earlier hours stay")
    func addedMinutesDropTheirHour() {
        var cache = PoolHourCache()
        let now = Self.at(48, minutes: 30)
        for pool in ["p", "q"] {
            cache.keep((10..<20).map { Self.hour(pool, $0) }, pool: pool, from: Self.at(10), to: Self.at(20), readAt: cache.generation, now: now)
        }
        let before = cache.generation
        cache.added([PoolMinute(poolID: "p", start: Self.at(14, minutes: 59))])
        #expect(cache.generation != before)
        #expect(cache.lookup(pool: "p", from: Self.at(10), to: Self.at(20)).missing == [Self.at(14)..<Self.at(20)])
        #expect(cache.lookup(pool: "q", from: Self.at(10), to: Self.at(20)).missing.isEmpty)
        // A minute of now's hour (the usual write) or of an hour before the window drops nothing.
        cache.added([PoolMinute(poolID: "q", start: Self.at(48, minutes: 29)), PoolMinute(poolID: "q", start: Self.at(3))])
        #expect(cache.lookup(pool: "q", from: Self.at(10), to: Self.at(20)).missing.isEmpty)
        // The window's first hour: nothing of it is left.
        cache.added([PoolMinute(poolID: "q", start: Self.at(10, minutes: 1))])
        #expect(cache.lookup(pool: "q", from: Self.at(10), to: Self.at(20)).missing == [Self.at(10)..<Self.at(20)])
    }

    @Test("a read that began before a change is not kept: it may hold the hour as it was")
    func staleReadIsNotKept() {
        var cache = PoolHourCache()
        let now = Self.at(48, minutes: 30)
        let readAt = cache.generation
        cache.added([PoolMinute(poolID: "p", start: Self.at(12, minutes: 5))])
        cache.keep((10..<20).map { Self.hour("p", $0) }, pool: "p", from: Self.at(10), to: Self.at(20), readAt: readAt, now: now)
        #expect(cache.lookup(pool: "p", from: Self.at(10), to: Self.at(20)).missing == [Self.at(10)..<Self.at(20)])
    }

    @Test("a compaction drops the hours whose minutes it rolled up and the hours it forgot")
    func compactionDropsOldHours() {
        var cache = PoolHourCache(span: .seconds(40 * 86_400))
        let now = Self.at(30 * 24, minutes: 30)
        cache.keep((0..<(30 * 24)).map { Self.hour("p", $0) }, pool: "p", from: Self.at(0), to: Self.at(30 * 24), readAt: cache.generation, now: now)
        #expect(cache.lookup(pool: "p", from: Self.at(0), to: Self.at(30 * 24)).missing.isEmpty)
        // Minutes kept 10 days: hours before now's hour - 10 days were rolled up.
        cache.compacted(now: now, minutesKept: .seconds(10 * 86_400), hoursKept: .seconds(400 * 86_400))
        #expect(cache.lookup(pool: "p", from: Self.at(0), to: Self.at(30 * 24)).missing == [Self.at(0)..<Self.at(20 * 24)])
        // Hours kept 5 days: the hours before now - 5 days (to the next whole hour) are gone.
        cache.compacted(now: now, minutesKept: .seconds(10 * 86_400), hoursKept: .seconds(5 * 86_400))
        #expect(cache.lookup(pool: "p", from: Self.at(0), to: Self.at(30 * 24)).missing == [Self.at(0)..<Self.at(25 * 24 + 1)])
    }
}
