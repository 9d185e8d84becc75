import CallTrackCore
import Testing
import TestSupport

/// `MeasuredTraffic`: a pool's stored buckets read as visits per hour and a holding time, and replayed by the
/// simulator visit for visit.
@Suite("Measured traffic replay", .cpuBound)
struct MeasuredTrafficTests {
    static let midnight = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)

    static func minute(_ pool: String = "paid", hour: Int, minute: Int = 0, sessions: Int, live: Int = 4, cooldown: Double = 900) -> PoolMinute {
        var bucket = PoolMinute(poolID: pool, start: midnight + .seconds(Int64(hour * 3_600 + minute * 60)))
        bucket.size = 10
        bucket.sessions = sessions
        bucket.allocations = sessions
        bucket.liveSum = live
        bucket.liveSamples = 1
        bucket.livePeak = live
        bucket.cooldownSeconds = cooldown
        return bucket
    }

    @Test("visits land in their hour of the window (minutes and rolled-up hours alike); hours without buckets are zero; other pools and times are left out")
    func hoursOfTheWindow() throws {
        var hourBucket = Self.minute(hour: 5, sessions: 9)
        hourBucket.seconds = 3_600
        let buckets = [
            Self.minute(hour: 1, minute: 0, sessions: 2), Self.minute(hour: 1, minute: 59, sessions: 3), hourBucket,
            Self.minute("other", hour: 1, sessions: 50), Self.minute(hour: 30, sessions: 70), Self.minute(hour: -1, sessions: 80),
        ]
        // A window from 00:30 to 24:10 is the whole hours 00:00–24:00.
        let measured = try #require(MeasuredTraffic(poolID: "paid", buckets: buckets, from: Self.midnight + .seconds(1_800),
                                                    to: Self.midnight + .seconds(86_400 + 600)))
        #expect(measured.from == Self.midnight && measured.to == Self.midnight + .seconds(86_400))
        #expect(measured.hours.count == 24 && measured.days == 1)
        #expect(measured.hours[1] == 5 && measured.hours[5] == 9 && measured.sessions == 14)
        #expect(measured.callShare == nil)
    }

    @Test("no visit in the window: nothing to replay")
    func noHistory() {
        #expect(MeasuredTraffic(poolID: "paid", buckets: [], from: Self.midnight, to: Self.midnight + .seconds(86_400)) == nil)
        #expect(MeasuredTraffic(poolID: "paid", buckets: [Self.minute(hour: 2, sessions: 0)], from: Self.midnight,
                                to: Self.midnight + .seconds(86_400)) == nil)
        #expect(MeasuredTraffic(poolID: "paid", buckets: [Self.minute(hour: 2, sessions: 4)], from: Self.midnight,
                                to: Self.midnight + .seconds(1_200)) == nil, "less than a whole hour")
    }

    @Test("the holding time is the summary's (Little's law plus the cooldown); the call share counts calls on the pool's numbers per visit")
    func holdingAndCalls() throws {
        // Every minute of an hour: 1 visit, 30 leases live: 30 lease-minutes per visit → 30 min leases, + 15 min cooldown.
        var buckets = (0..<60).map { Self.minute(hour: 2, minute: $0, sessions: 1, live: 30) }
        buckets[0].calls = [.exact: 2, .late: 1, .repeat: 5, .static: 7]
        let measured = try #require(MeasuredTraffic(poolID: "paid", buckets: buckets, from: Self.midnight, to: Self.midnight + .seconds(86_400)))
        #expect(abs(measured.meanHoldingSeconds - 45 * 60) < 1)
        #expect(abs(measured.meanLeaseSeconds - 30 * 60) < 1)
        #expect(measured.callShare == 3.0 / 60)
        // Leases of 30 minutes under a 20-minute idle TTL: visits of about 10.5 minutes on average (pings each minute).
        let profile = measured.profile(policy: PoolPolicy(idleTTL: .seconds(1_200)))
        #expect(profile.replayedHours == measured.hours && profile.botShare == 0 && profile.callShare == 3.0 / 60)
        let mean = profile.sessionMedian.secondsDouble * exp(profile.sessionSpread * profile.sessionSpread / 2)
        #expect(abs(mean - 630) < 1)
    }

    @Test("the simulator replays the hours exactly: every measured visit, none more, the busiest hour the measured one, and leases as long as measured")
    func simulatorReplays() throws {
        var buckets: [PoolMinute] = []
        for (hour, visits) in [(3, 12), (10, 40), (30, 25), (47, 2)] {
            buckets += (0..<visits).map { Self.minute(hour: hour, minute: $0 % 60, sessions: 1, live: 10) }
        }
        let measured = try #require(MeasuredTraffic(poolID: "paid", buckets: buckets, from: Self.midnight, to: Self.midnight + .seconds(2 * 86_400)))
        let policy = PoolPolicy()
        var profile = measured.profile(policy: policy)
        profile.callShare = 0
        let simulator = PoolSimulator(profile: profile, policy: policy, days: measured.days, seed: 7)
        let outcome = simulator.run(poolSize: 500)
        #expect(outcome.sessions == 79 && outcome.botSessions == 0)
        #expect(outcome.busiestHourSessions == 40)
        #expect(profile.busiestHourArrivals == 40)
        // Measured: 10 live per minute, one visit a minute → 10-minute leases... shorter than the idle TTL
        // alone, so the replay's visits are as short as they go and its leases last the idle TTL.
        #expect(abs(outcome.meanHoldingSeconds - (policy.idleTTL + policy.cooldown).secondsDouble) < 60)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
