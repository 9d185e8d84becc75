import CallTrackCore
import Testing

/// Erlang B against the published tables (lines needed for a given traffic and grade of service).
@Suite("Erlang B")
struct ErlangBTests {
    @Test("pool sizes match the published Erlang B table at 1% and 0.1%", arguments: [
        (0.5, 0.01, 4), (2.0, 0.01, 7), (5.0, 0.01, 11), (10.0, 0.01, 18), (20.0, 0.01, 30), (100.0, 0.01, 117),
        (1000.0, 0.01, 1029), (10.0, 0.001, 21), (5.0, 0.001, 14), (50.0, 0.001, 71),
    ])
    func tableValues(load: Double, target: Double, servers: Int) {
        #expect(ErlangB.servers(load: load, target: target) == servers)
        #expect(ErlangB.blocking(load: load, servers: servers) <= target)
        #expect(ErlangB.blocking(load: load, servers: servers - 1) > target, "the smallest such pool")
    }

    @Test("blocking probabilities: closed-form values, and the edges")
    func blockingValues() {
        #expect(abs(ErlangB.blocking(load: 1, servers: 1) - 0.5) < 1e-12)
        #expect(abs(ErlangB.blocking(load: 2, servers: 2) - 0.4) < 1e-12)
        #expect(abs(ErlangB.blocking(load: 10, servers: 10) - 0.214582) < 1e-6)
        #expect(abs(ErlangB.blocking(load: 10, servers: 18) - 0.007142) < 1e-6)
        #expect(ErlangB.blocking(load: 5, servers: 0) == 1)
        #expect(ErlangB.blocking(load: 0, servers: 3) == 0)
        #expect(ErlangB.servers(load: 0, target: 0.01) == 0, "no traffic needs no numbers")
        let huge = ErlangB.blocking(load: 50_000, servers: 50_500)
        #expect(huge.isFinite && huge > 0 && huge < 0.01, "stays finite where factorials overflow")
    }

    @Test("more numbers never block more, and more traffic never blocks less")
    func monotone() {
        for load in stride(from: 0.5, through: 60, by: 3.5) {
            var previous = 1.0
            for servers in 0...90 {
                let b = ErlangB.blocking(load: load, servers: servers)
                #expect(b <= previous + 1e-15)
                #expect(b <= ErlangB.blocking(load: load + 1, servers: servers) + 1e-15)
                previous = b
            }
        }
    }

    @Test("offered load: 120 visits an hour holding a number 20 minutes plus a 15-minute cooldown is 70 erlangs")
    func offeredLoad() {
        #expect(abs(ErlangB.offeredLoad(arrivalsPerHour: 120, meanHolding: .seconds(35 * 60)) - 70) < 1e-9)
    }
}
