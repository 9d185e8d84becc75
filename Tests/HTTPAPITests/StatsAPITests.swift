import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HTTPAPI
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// `GET /v1/admin/stats` over a real socket: the pool's visits, full-pool answers and live leases as counted on
/// the allocation path, written once a minute, summed up with the sentence ops read first.
@Suite("Pool statistics API")
struct StatsAPITests {
    static let auth: HTTPFields = [.authorization: "Bearer \(AdminAPITests.token)"]

    struct Answer: Decodable {
        struct PoolStats: Decodable {
            struct Summary: Decodable {
                var sentence: String
                var size: Int
                var sessions: Int
                var exhaustions: Int
                var recommended_size_1_percent: Int
            }
            struct Bucket: Decodable {
                var start: String
                var sessions: Int
                var live_peak: Int
            }
            var pool_id: String
            var site_id: String
            var summary: Summary
            var series: [Bucket]
        }
        var step: String
        var pools: [PoolStats]
    }

    @Test("three visits to a two-number pool: two leases and one full-pool answer in their minute; the summary and series say so")
    func countsReachTheAPI() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock(at: Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000))
        try await TestDaemon.with(TestDaemon.config(numbers: 2, dir: dir, adminToken: AdminAPITests.token), clock: clock) { daemon, client in
            for n in 1...3 { _ = try await client.allocate(#"{"site":"acme","session_id":"sess_stats00\#(n)"}"#) }
            daemon.desk.statistics.sample(daemon.book.snapshot(at: clock.now()), cooldowns: [:], at: clock.now())
            // What the writer does once a minute.
            try await daemon.statistics.add(daemon.desk.statistics.takeFinished(at: clock.now() + .seconds(60)))
            let to = APITime.format(clock.now() + .seconds(3_600))
            let answer = try await client.execute(uri: "/v1/admin/stats?site=acme&step=minute&to=\(to)", method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(Answer.self, from: Data(response.body.readableBytesView))
            }
            #expect(answer.step == "minute")
            let pool = try #require(answer.pools.first)
            #expect(answer.pools.count == 1 && pool.pool_id == "acme-main" && pool.site_id == "acme")
            #expect(pool.summary.sessions == 3 && pool.summary.exhaustions == 1 && pool.summary.size == 2)
            #expect(pool.series.map(\.sessions) == [3] && pool.series.map(\.live_peak) == [2])
            #expect(pool.summary.sentence.hasPrefix("Pool acme-main needs \(pool.summary.recommended_size_1_percent) numbers for < 1% exhaustion"))
        }
    }

    /// What the series and step rules decide: whether each pool has a series, and how long it is.
    struct Shape: Decodable {
        struct PoolStats: Decodable {
            struct Bucket: Decodable { var start: String }
            var pool_id: String
            var series: [Bucket]?
        }
        var step: String
        var pools: [PoolStats]
    }

    @Test("with neither site nor pool every pool's summary comes without a series; naming one adds it; the step is the minute up to two days, else the hour, unless asked")
    func seriesAndStep() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // An hour's start; three days of minutes before it.
        let now = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)
        let clock = ManualClock(at: now)
        try await TestDaemon.with(TestDaemon.config(numbers: 2, dir: dir, adminToken: AdminAPITests.token), clock: clock) { daemon, client in
            try await daemon.statistics.add((1...(3 * 1_440)).map { n in
                var minute = PoolMinute(poolID: "acme-main", start: now - .seconds(Int64(n) * 60))
                minute.size = 2
                minute.sessions = 1
                return minute
            })
            func shape(_ query: String) async throws -> (step: String, series: [Int?]) {
                try await client.execute(uri: "/v1/admin/stats?\(query)", method: .get, headers: Self.auth) { response in
                    #expect(response.status == .ok, "\(query)")
                    let answer = try JSONDecoder().decode(Shape.self, from: Data(response.body.readableBytesView))
                    return (answer.step, answer.pools.map { $0.series?.count })
                }
            }
            let dayAgo = APITime.format(now - .seconds(86_400)), threeDaysAgo = APITime.format(now - .seconds(3 * 86_400))
            #expect(try await shape("") == ("hour", [nil]))
            #expect(try await shape("from=\(dayAgo)") == ("minute", [nil]))
            #expect(try await shape("site=acme") == ("hour", [72]))
            #expect(try await shape("pool=acme-main&from=\(dayAgo)") == ("minute", [1_440]))
            #expect(try await shape("pool=acme-main&from=\(threeDaysAgo)") == ("hour", [72]))
            #expect(try await shape("pool=acme-main&from=\(threeDaysAgo)&step=minute") == ("minute", [3 * 1_440]))
            #expect(try await shape("site=acme&from=\(dayAgo)&step=hour") == ("hour", [24]))
        }
    }

    @Test("a wrong parameter is a 400 naming it; an unknown pool or site a 404")
    func badQueries() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir, adminToken: AdminAPITests.token)) { (_, client) async throws in
            for (query, status) in [("step=week", HTTPResponse.Status.badRequest), ("from=yesterday", .badRequest),
                                    ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", .badRequest),
                                    ("pool=nope", .notFound), ("site=nope", .notFound)] {
                #expect(try await client.status(uri: "/v1/admin/stats?\(query)", method: .get, headers: Self.auth) == status, "\(query)")
            }
        }
    }
}
