import CallTrackCore
import Testing

/// Per-pool buckets roll up and summarise into the figures ops act on.
@Suite("Pool statistics")
struct PoolStatsTests {
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)  // midnight UTC

    static func minute(_ n: Int, sessions: Int, live: Int, size: Int = 10, exhaustions: Int = 0, calls: [MatchKind: Int] = [:],
                       cooldown: Double = 900, lateGaps: [Double] = []) -> PoolMinute {
        var m = PoolMinute(poolID: "paid-search", start: t0 + .seconds(Int64(n) * 60))
        m.size = size
        m.sessions = sessions
        m.allocations = sessions - exhaustions
        m.exhaustions = exhaustions
        m.liveSum = live
        m.liveSamples = 1
        m.livePeak = live
        m.cooldownSeconds = cooldown
        m.calls = calls
        m.lateGaps = lateGaps
        return m
    }

    @Test("minutes roll up into hours: counters add, the peak is the highest, the size is the last")
    func rollUp() {
        let minutes = (0..<120).map { Self.minute($0, sessions: 2, live: $0 % 7, size: $0 < 90 ? 10 : 12) }
        let hours = PoolMinute.hours(minutes)
        #expect(hours.count == 2)
        #expect(hours.map(\.sessions) == [120, 120])
        #expect(hours.map(\.livePeak) == [6, 6])
        #expect(hours.map(\.size) == [10, 12])
        #expect(hours.map(\.seconds) == [3_600, 3_600])
        #expect(hours[0].start == Self.t0 && hours[1].start == Self.t0 + .seconds(3_600))
    }

    @Test("the busiest hour's offered load gives Erlang B's pool; the sentence says what to add")
    func recommendation() {
        // A quiet hour (60 visits, 20 live leases), then 240 visits in an hour (60 live, 60 found it full): by Little's
        // law (20·3600 + 60·3600 lease-seconds over 240 leases) 20 minutes a lease, plus a 15-minute cooldown:
        // 240 an hour × 35 minutes = 140 erlangs.
        let quiet = (0..<60).map { Self.minute($0, sessions: 1, live: 20) }
        let busy = (60..<120).map { Self.minute($0, sessions: 4, live: 60, exhaustions: 1) }
        let summary = PoolStatsSummary(poolID: "paid-search", buckets: quiet + busy, from: Self.t0, to: Self.t0 + .seconds(7 * 86_400))
        #expect(summary.busiestHour == Self.t0 + .seconds(3_600))
        #expect(summary.busiestHourArrivals == 240)
        #expect(abs(summary.meanHoldingSeconds - 2_100) < 1e-6)
        #expect(abs(summary.offeredLoad - 140) < 1e-6)
        #expect(summary.recommendedFor1Percent == ErlangB.servers(load: 140, target: 0.01))
        #expect(summary.recommendedFor01Percent > summary.recommendedFor1Percent)
        #expect(summary.sentence == "Pool paid-search needs \(summary.recommendedFor1Percent) numbers for < 1% exhaustion at the busiest hour of the last 7 days (has 10): add \(summary.recommendedFor1Percent - 10).")
        #expect(summary.exhaustionRate == 60.0 / 300.0)
    }

    @Test("the busiest hour sums its minutes and its rolled-up hour alike; of equal hours, the earliest")
    func busiestHour() {
        // Hour 0 as minutes (120 visits), hour 1 rolled up (120), hour 2 as 50 minutes and one busier one (100 + 20).
        var rolled = PoolMinute.hours((60..<120).map { Self.minute($0, sessions: 2, live: 5) })[0]
        rolled.minuteLeaseSeconds = rolled.leaseSeconds
        let lateMinute = Self.minute(179, sessions: 20, live: 5)
        let buckets = (0..<60).map { Self.minute($0, sessions: 2, live: 5) } + [rolled]
            + (120..<170).map { Self.minute($0, sessions: 2, live: 5) } + [lateMinute]
        let summary = PoolStatsSummary(poolID: "paid-search", buckets: buckets, from: Self.t0, to: Self.t0 + .seconds(3 * 3_600))
        #expect(summary.busiestHour == Self.t0)
        #expect(summary.busiestHourArrivals == 120)
        #expect(summary.utilisation["peak"] == 0.5)
        let empty = PoolStatsSummary(poolID: "paid-search", buckets: [], from: Self.t0, to: Self.t0 + .seconds(3_600))
        #expect(empty.busiestHour == nil && empty.busiestHourArrivals == 0 && empty.utilisation["peak"] == 0)
    }

    @Test("collision, late and unmatched rates are shares of the calls on pool numbers; the cooldown needed covers 99% of late gaps")
    func rates() {
        let gaps = (1...100).map { Double($0) * 60 }  // late calls 1 to 100 minutes after their lease ended
        let minutes = [Self.minute(0, sessions: 1, live: 1, calls: [.exact: 6, .shared: 2, .late: 1, .unmatched: 1, .static: 5], lateGaps: gaps)]
        let summary = PoolStatsSummary(poolID: "p", buckets: minutes, from: Self.t0, to: Self.t0 + .seconds(86_400))
        #expect(summary.callsOnPool == 10)
        #expect(summary.collisionRate == 0.2)
        #expect(summary.lateRate == 0.1)
        #expect(summary.unmatchedRate == 0.1)
        #expect(summary.cooldownNeededSeconds.map { Int($0) } == 99 * 60)
    }

    @Test("utilisation percentiles come from the buckets' mean live ÷ size")
    func utilisation() {
        let minutes = (0..<100).map { Self.minute($0, sessions: 1, live: $0 < 95 ? 5 : 10) }
        let summary = PoolStatsSummary(poolID: "p", buckets: minutes, from: Self.t0, to: Self.t0 + .seconds(86_400))
        #expect(summary.utilisation["p50"] == 0.5)
        #expect(summary.utilisation["p95"] == 0.5)
        #expect(summary.utilisation["p99"] == 1.0)
        #expect(summary.utilisation["peak"] == 1.0)
    }
}

@Suite("Pool statistics recorder")
struct PoolStatsRecorderTests {
    static let t0 = PoolStatsTests.t0
    static let browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    static let pool = Pool(id: "main", numbers: [try! PhoneNumber.e164("+74950000001"), try! PhoneNumber.e164("+74950000002")])
    static let site = Site(id: "acme", defaultNumber: try! PhoneNumber.e164("+74950000000"), pools: [pool])

    @Test("allocations, a full pool, touches and samples land in the minute they happened; finished minutes are taken once")
    func countsPerMinute() throws {
        let book = LeaseBook(sites: [Self.site])
        let recorder = PoolStatsRecorder()
        for (index, second) in [1, 2, 3, 70].enumerated() {
            let t = Self.t0 + .seconds(Int64(second))
            let assignment = try book.assign(AllocationRequest(siteID: "acme", sessionID: "s_session\(index)", visitorID: "v_visitor\(index)", userAgent: Self.browser), at: t)
            recorder.note(assignment, at: t)
            recorder.sample(book.snapshot(at: t), cooldowns: ["main": .seconds(900)], at: t)
        }
        let touch = try book.assign(AllocationRequest(siteID: "acme", sessionID: "s_session0", visitorID: "v_visitor0", userAgent: Self.browser), at: Self.t0 + .seconds(4))
        recorder.note(touch, at: Self.t0 + .seconds(4))
        recorder.noteCall(pool: "main", kind: .late, lateGap: .seconds(120), at: Self.t0 + .seconds(5))

        #expect(recorder.takeFinished(at: Self.t0 + .seconds(59)).isEmpty, "the first minute is not over")
        let first = recorder.takeFinished(at: Self.t0 + .seconds(75))
        #expect(first.count == 1)
        let minute = try #require(first.first)
        #expect(minute.start == Self.t0 && minute.poolID == "main" && minute.size == 2)
        #expect(minute.sessions == 3 && minute.allocations == 2 && minute.exhaustions == 1, "two numbers, three visits; the touch is not a visit")
        #expect(minute.livePeak == 2 && minute.liveSamples == 3)
        #expect(minute.calls == [.late: 1] && minute.lateGaps == [120] && minute.cooldownSeconds == 900)
        #expect(recorder.takeFinished(at: Self.t0 + .seconds(75)).isEmpty, "taken once")
        let second = recorder.takeFinished(at: Self.t0 + .seconds(121))
        #expect(second.map(\.start) == [Self.t0 + .seconds(60)])

        // What the store refused comes back with the next minutes.
        recorder.putBack(second)
        #expect(recorder.takeFinished(at: Self.t0 + .seconds(121)).map(\.exhaustions) == second.map(\.exhaustions))
    }
}
