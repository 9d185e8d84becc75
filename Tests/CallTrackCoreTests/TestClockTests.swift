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
