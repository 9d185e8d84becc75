import CallTrackCore
import Logging
import Store
import Testing
import TestSupport

/// The pools' history in SQLite: a minute written twice adds up, a restart keeps it, a month of minutes
/// becomes hours, and hours go after their keep period.
@Suite("Pool statistics in the store")
struct PoolStatisticsStoreTests {
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)

    static func minute(_ pool: String, _ n: Int, sessions: Int = 2, live: Int = 3) -> PoolMinute {
        var m = PoolMinute(poolID: pool, start: t0 + .seconds(Int64(n) * 60))
        m.size = 10
        m.sessions = sessions
        m.allocations = sessions
        m.liveSum = live
        m.liveSamples = 1
        m.livePeak = live
        m.cooldownSeconds = 900
        m.calls = [.exact: 1, .late: 1]
        m.lateGaps = [Double(n)]
        return m
    }

    @Test("a bucket written twice adds up; the history survives a restart; a month of minutes rolls into hours; old hours go")
    func history() async throws {
        let dir = TemporaryDirectory("pool-statistics")
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        do {
            let stats = PoolStatisticsStore(store: try SQLiteStore(path: path, logger: Logger(label: "test")))
            try await stats.add((0..<120).map { Self.minute("main", $0) } + [Self.minute("other", 0)])
            try await stats.add([Self.minute("main", 0, sessions: 5, live: 7)])  // the same minute again: it adds
        }
        let reopened = PoolStatisticsStore(store: try SQLiteStore(path: path, logger: Logger(label: "test")))
        let all = try await reopened.buckets(from: Self.t0, to: Self.t0 + .seconds(86_400))
        #expect(all.count == 121)
        let first = try #require(all.first { $0.poolID == "main" && $0.start == Self.t0 })
        #expect([first.sessions, first.liveSum, first.liveSamples, first.livePeak] == [7, 10, 2, 7])
        #expect(first.calls == [.exact: 2, .late: 2])
        #expect(first.lateGaps == [0, 0])
        #expect(try await reopened.buckets(pools: ["other"], from: Self.t0, to: Self.t0 + .seconds(86_400)).count == 1)

        // 31 days later the minutes older than 30 days are hours; the sums are the same.
        let later = Self.t0 + .seconds(31 * 86_400)
        let rolled = try await reopened.compact(now: later, minutesKept: .seconds(30 * 86_400), hoursKept: .seconds(400 * 86_400))
        #expect(rolled == 121)
        let hours = try await reopened.buckets(pools: ["main"], from: Self.t0, to: later)
        #expect(hours.map(\.seconds) == [3_600, 3_600])
        let sessions = hours.map(\.sessions).reduce(0, +)
        #expect(sessions == 245)
        #expect(hours.map(\.lateGaps.count) == [61, 60])
        // After 400 days the hours go too.
        try await reopened.compact(now: Self.t0 + .seconds(402 * 86_400), minutesKept: .seconds(30 * 86_400), hoursKept: .seconds(400 * 86_400))
        #expect(try await reopened.buckets(from: Self.t0, to: later).isEmpty)
    }
}
