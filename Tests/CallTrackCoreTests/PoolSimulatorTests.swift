import CallTrackCore
import Foundation
import Testing
import TestSupport

/// The simulator drives the real allocator and matcher: what it measures must agree with the model where the
/// model holds, and the pool the daemon recommends must credit calls to the visits that made them.
@Suite("Pool sizing simulator", .cpuBound)
struct PoolSimulatorTests {
    /// Steady traffic around the clock: arrivals are Poisson at one rate, so Erlang B's assumptions hold.
    static let steady = TrafficProfile(
        visitsPerDay: 2_400, hourlyWeights: Array(repeating: 1, count: 24), sessionMedian: .seconds(600), sessionSpread: 0.5,
        callShare: 0.03, repeatShare: 0, botShare: 0)
    static let shortHolding = PoolPolicy(idleTTL: .seconds(300), cooldown: .seconds(300))

    @Test("the same seed gives the same run; another seed another")
    func deterministic() {
        let simulator = PoolSimulator(profile: TrafficProfile(visitsPerDay: 500), days: 2, seed: 7)
        let other = PoolSimulator(profile: simulator.profile, days: 2, seed: 8)
        let (a, b, c) = (simulator.run(poolSize: 20), simulator.run(poolSize: 20), other.run(poolSize: 20))
        #expect(a == b)
        #expect(c != a)
    }

    @Test("on steady traffic the measured exhaustion agrees with Erlang B within statistical error (the allocator behaves like the model)",
          arguments: [0.02, 0.08, 0.2])
    func agreesWithErlangB(blocking: Double) {
        let simulator = PoolSimulator(profile: Self.steady, policy: Self.shortHolding, days: 14, seed: 11)
        let probe = simulator.run(poolSize: 200)
        let size = ErlangB.servers(load: probe.offeredLoad, target: blocking)
        let outcome = simulator.run(poolSize: size)
        #expect(probe.exhausted == 0)
        let predicted = ErlangB.blocking(load: outcome.offeredLoad, servers: size)
        // Blocked visits come in bursts, so the spread is wider than a binomial's: allow 3σ of a binomial over a
        // tenth of the visits, and at least 15% of the prediction.
        let n = Double(outcome.sessions) / 10
        let tolerance = max(3 * (predicted * (1 - predicted) / n).squareRoot(), 0.15 * predicted)
        #expect(abs(outcome.exhaustionRate - predicted) <= tolerance,
                "pool \(size): measured \(outcome.exhaustionRate), Erlang B \(predicted), load \(outcome.offeredLoad) E over \(outcome.sessions) visits")
    }

    /// 2,000 visits a day, 3% call after a median 4 minutes. The cooldown must outlast the late callers' tail:
    /// with the default 15 minutes about 2% of these calls come after it and are lost whatever the pool size
    /// (the simulator shows it; `calltrackd simulate --cooldown 15m`), with 45 minutes under 0.5%.
    @Test("with the pool size Erlang B recommends for the busiest hour (and a cooldown the late callers need), ≥ 99% of calls bind to the session that made them")
    func recommendedPoolIsAccurate() {
        let simulator = PoolSimulator(profile: TrafficProfile(), policy: PoolPolicy(cooldown: .seconds(45 * 60)), days: 7, seed: 3)
        let recommended = simulator.recommendedSize(holding: simulator.run(poolSize: 1_000), target: 0.01)
        let (outcome, half) = (simulator.run(poolSize: recommended), simulator.run(poolSize: recommended / 2))
        #expect(outcome.calls > 300)
        #expect(outcome.accuracy >= 0.99, "pool \(recommended): \(outcome.correct) of \(outcome.calls) calls credited right")
        // Half of it loses calls to a full pool: the simulator must see that too.
        #expect(half.accuracy < 0.9)
    }

    @Test("with half the pool and sharing when full, the reported collision rate is within ±10% of the true rate")
    func collisionRateIsTrue() {
        var policy = PoolPolicy()
        policy.onExhaustion = .share
        let simulator = PoolSimulator(profile: TrafficProfile(visitsPerDay: 3_000), policy: policy, days: 7, seed: 5)
        let recommended = simulator.recommendedSize(holding: simulator.run(poolSize: 1_000), target: 0.01)
        let outcome = simulator.run(poolSize: recommended / 2)
        #expect(outcome.trueCollisionRate > 0.05, "half the pool must collide for this to test anything")
        #expect(abs(outcome.collisionRate - outcome.trueCollisionRate) <= 0.1 * outcome.trueCollisionRate,
                "reported \(outcome.collisionRate), true \(outcome.trueCollisionRate)")
    }
}
