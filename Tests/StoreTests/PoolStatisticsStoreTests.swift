import CallTrackCore
import GRDB
import Logging
@testable import Store
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

    @Test("by the hour: whole hours come rolled up as written, partial hours at the ends as minutes; the series and summary are the minutes' (utilisation to 0.1%); rolled hours go after their keep period")
    func hourly() async throws {
        let dir = TemporaryDirectory("pool-statistics-hours")
        defer { dir.remove() }
        let stats = PoolStatisticsStore(store: try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test")))
        // Three hours of minutes with varying load, written a minute at a time as the writer does, one twice.
        let minutes = (0..<180).map { Self.minute("main", $0, sessions: $0 % 4, live: $0 % 10) }
        for minute in minutes { try await stats.add([minute]) }
        try await stats.add([Self.minute("main", 70, sessions: 1, live: 5)])
        let stored = try await stats.buckets(pools: ["main"], from: Self.t0, to: Self.t0 + .seconds(3 * 3_600))
        #expect(stored.count == 180)

        // 00:30 to 02:30: a partial hour, a whole one, a partial one.
        let from = Self.t0 + .seconds(1_800), to = Self.t0 + .seconds(9_000)
        let hourly = try await stats.hours(pools: ["main", "absent"], from: from, to: to)
        #expect(hourly.map(\.seconds) == Array(repeating: 60, count: 30) + [3_600] + Array(repeating: 60, count: 30))
        let minutesInWindow = stored.filter { $0.start >= from && $0.start < to }
        #expect(PoolMinute.hours(hourly).map(\.sessions) == PoolMinute.hours(minutesInWindow).map(\.sessions))
        #expect(PoolMinute.hours(hourly).map(\.livePeak) == PoolMinute.hours(minutesInWindow).map(\.livePeak))
        let fromHours = PoolStatsSummary(poolID: "main", buckets: hourly, from: from, to: to)
        let fromMinutes = PoolStatsSummary(poolID: "main", buckets: minutesInWindow, from: from, to: to)
        #expect(fromHours.sessions == fromMinutes.sessions && fromHours.callsOnPool == fromMinutes.callsOnPool)
        #expect(abs(fromHours.meanHoldingSeconds - fromMinutes.meanHoldingSeconds) < 1e-6)
        for key in ["p50", "p95", "p99", "peak"] {
            #expect(abs((fromHours.utilisation[key] ?? -1) - (fromMinutes.utilisation[key] ?? 1)) <= 0.001, "\(key)")
        }
        #expect(fromHours.cooldownNeededSeconds == fromMinutes.cooldownNeededSeconds)

        // After 400 days the rolled hours go with the rest.
        try await stats.compact(now: Self.t0 + .seconds(402 * 86_400), minutesKept: .seconds(30 * 86_400), hoursKept: .seconds(400 * 86_400))
        #expect(try await stats.hours(pools: ["main"], from: Self.t0, to: Self.t0 + .seconds(86_400)).isEmpty)
    }

    @Test("v17 rolls the minutes and hours stored before it into pool_statistics_hour, as the writer would have")
    func migrationRollsUpHistory() async throws {
        let dir = TemporaryDirectory("pool-statistics-v17")
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        let minutes = (0..<120).map { Self.minute("main", $0, sessions: $0 % 3, live: $0 % 7) }
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator().migrate(queue, upTo: "v16-pool-statistics")
            try await queue.write { db in
                for minute in minutes { try db.execute(sql: PoolStatisticsStore.addSQL, arguments: PoolStatisticsStore.arguments(minute)) }
                var old = Self.minute("main", -600, sessions: 9, live: 4)  // an hour rolled up before v17
                old.seconds = 3_600
                old.start = Self.t0 - .seconds(36_000)
                try db.execute(sql: PoolStatisticsStore.addSQL, arguments: PoolStatisticsStore.arguments(old))
            }
        }
        let stats = PoolStatisticsStore(store: try SQLiteStore(path: path, logger: Logger(label: "test")))
        let hourly = try await stats.hours(pools: ["main"], from: Self.t0 - .seconds(86_400), to: Self.t0 + .seconds(86_400))
        #expect(hourly.map(\.seconds) == [3_600, 3_600, 3_600])
        #expect(hourly.map(\.sessions) == [9] + PoolMinute.hours(minutes).map(\.sessions))
        let fromHours = PoolStatsSummary(poolID: "main", buckets: Array(hourly.dropFirst()), from: Self.t0, to: Self.t0 + .seconds(7_200))
        let fromMinutes = PoolStatsSummary(poolID: "main", buckets: minutes, from: Self.t0, to: Self.t0 + .seconds(7_200))
        #expect(abs(fromHours.meanHoldingSeconds - fromMinutes.meanHoldingSeconds) < 1e-6)
        #expect(abs((fromHours.utilisation["p95"] ?? -1) - (fromMinutes.utilisation["p95"] ?? 1)) <= 0.001)
        #expect(hourly.dropFirst().map(\.lateGaps.count) == [60, 60])
    }
}
