import CallTrackCore
import Testing
import TestSupport

@Suite("Manual clock and seeded random (test support)")
struct TestClockTests {
    @Test("the manual clock moves only when told, and every holder sees the move")
    func manualClock() async {
        let clock = ManualClock(at: .seconds(100))
        let shared: any WallClock = clock
        #expect(shared.now() == .seconds(100))
        clock.advance(by: .seconds(5))
        let seen = await Task.detached { shared.now() }.value
        #expect(seen == .seconds(105))
        clock.set(.seconds(50))
        #expect(shared.now() == .seconds(50))
    }

    @Test("a task asleep on the manual clock wakes when the clock reaches its deadline, not before; cancelling it ends the sleep")
    func manualSleep() async throws {
        let clock = ManualClock(at: .seconds(100))
        let woke = Task { try await clock.sleep(for: .seconds(10)); return clock.now() }
        try await clock.waitForSleeper(until: .seconds(110), waitingFor: "the first sleeper")
        clock.advance(by: .seconds(9))
        #expect(clock.sleepingUntil == [.seconds(110)], "still asleep a second early")
        clock.advance(by: .seconds(2))
        #expect(try await woke.value == .seconds(111))

        let cancelled = Task { try await clock.sleep(for: .seconds(10)) }
        try await clock.waitForSleeper(until: .seconds(121), waitingFor: "the second sleeper")
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(clock.sleepingUntil == [])
        clock.set(.seconds(50))
        try await clock.sleep(for: .zero)  // nothing to wait for: returns at once
    }

    @Test("waiting for a sleeper nobody starts fails in bounded time, naming what it waited for and who does sleep")
    func missingSleeper() async throws {
        let clock = ManualClock(at: .seconds(100))
        let other = Task { try await clock.sleep(for: .seconds(5)) }
        defer { other.cancel() }
        try await clock.waitForSleeper(until: .seconds(105), waitingFor: "the other sleeper")
        let error = await #expect(throws: TimedOut.self) {
            try await clock.advance(by: .seconds(30), firing: "the ping timer", within: .milliseconds(100))
        }
        #expect(error?.description.contains("the ping timer") == true, "\(String(describing: error))")
        #expect(error?.description.contains("now + 5.0 seconds") == true, "\(String(describing: error))")
        #expect(clock.now() == .seconds(100), "a timer nobody set is not fired")
    }

    @Test("the seeded generator repeats itself for a seed and differs between seeds")
    func seeded() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        var c = SeededRandom(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        var d = SeededRandom(seed: 1)
        let rolls = (0..<10_000).map { _ in Int.random(in: 0..<4, using: &d) }
        #expect((0..<4).allSatisfy { v in (2_300...2_700).contains(rolls.count { $0 == v }) })
    }
}
