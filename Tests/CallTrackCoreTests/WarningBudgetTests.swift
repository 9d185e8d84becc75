import CallTrackCore
import Testing

@Suite("Warning budget")
struct WarningBudgetTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test("the first warning at once, then one per interval saying how many were held back")
    func onePerInterval() {
        var budget = WarningBudget(interval: .seconds(10))
        #expect(budget.admit(at: t0) == .log(suppressed: 0))
        #expect(budget.admit(at: t0 + .seconds(1)) == .suppress)
        #expect(budget.admit(at: t0 + .milliseconds(9_999)) == .suppress)
        #expect(budget.admit(at: t0 + .seconds(10)) == .log(suppressed: 2))
        #expect(budget.admit(at: t0 + .seconds(11)) == .suppress)
        #expect(budget.admit(at: t0 + .seconds(60)) == .log(suppressed: 1))
        #expect(budget.admit(at: t0 + .seconds(61)) == .suppress)
    }

    @Test("a clock set back does not silence warnings for the length of the jump")
    func clockSetBack() {
        var budget = WarningBudget(interval: .seconds(10))
        #expect(budget.admit(at: t0) == .log(suppressed: 0))
        #expect(budget.admit(at: t0 - .seconds(3600)) == .log(suppressed: 0))
        #expect(budget.admit(at: t0 - .seconds(3599)) == .suppress)
    }
}
