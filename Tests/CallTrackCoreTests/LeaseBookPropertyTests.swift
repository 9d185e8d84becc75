import CallTrackCore
import Testing
import TestSupport

/// The lease book over random operation sequences: for people it must answer exactly as its pool
/// allocator does (rules 1–4 live there and are proven in `AllocatorPropertyTests`), bots must
/// never take a pool number, and the admin changes must reach the pool.
@Suite("Lease book properties", .cpuBound)
struct LeaseBookPropertyTests {
    static let bot = "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"

    @Test("answers like a bare pool allocator for people; bots never take a pool number", arguments: Array(0..<4))
    func matchesAllocator(shard: Int) async throws {
        for seed in (0..<25).map({ UInt64(50_000 + shard * 100 + $0) }) {
            if let failure = try await run(seed: seed, steps: 300) {
                Issue.record(failure)
                return
            }
        }
    }

    private func run(seed: UInt64, steps: Int) async throws -> Comment? {
        var scenario = AllocatorScenario(seed: seed)
        let site = Site(
            id: "acme", defaultNumber: AllocatorScenario.number(9_000),
            pools: [Pool(id: "p", numbers: scenario.numbers, policy: scenario.policy)])
        let unlimited = FloodGuard.Limit(burst: 1e9, perMinute: 1e9)
        let book = LeaseBook(sites: [site], flood: FloodGuard(perIP: unlimited, perVisitor: unlimited))
        var twin = scenario.makeAllocator()
        var lastAssignment: Assignment?
        var lastOutcome: PoolAllocator.Outcome?

        for _ in 0..<steps {
            let op = scenario.next()
            let now = scenario.now
            var answer = AllocatorAnswer.done
            switch op {
            case .allocate(let session, let visitor, let previous):
                let isBot = scenario.rng.chance(0.2)
                let request = AllocationRequest(
                    siteID: "acme", sessionID: session, visitorID: visitor,
                    userAgent: isBot ? Self.bot : LeaseBookTests.browser, clientIP: "10.0.0.1", previousNumber: previous)
                let assignment = try book.assign(request, at: now)
                lastAssignment = assignment
                if let touched = twin.touch(session: session, at: now) {
                    lastOutcome = .existing(touched)
                } else if isBot {
                    lastOutcome = nil
                    if assignment.kind != .fallback || assignment.reason != .bot || assignment.lease != nil {
                        return scenario.failure("\(op) as a bot: answered \(assignment.kind) \(assignment.number)")
                    }
                } else {
                    lastOutcome = twin.allocate(session: session, visitor: visitor, previousNumber: previous, at: now)
                }
                if let expected = lastOutcome {
                    if assignment.outcome != expected { return scenario.failure("\(op): book \(String(describing: assignment.outcome)), allocator \(expected)") }
                    let pool = expected != .exhausted
                    if (assignment.kind == .pool) != pool || assignment.number != (expected.lease?.number ?? site.defaultNumber) {
                        return scenario.failure("\(op): answered \(assignment.kind) \(assignment.number) for \(expected)")
                    }
                    answer = .outcome(expected)
                }
            case .touch(let session):
                let touched = try book.touch(siteID: "acme", session: session, at: now)
                let expected = twin.touch(session: session, at: now)
                if touched?.lease != expected { return scenario.failure("\(op): book touched \(String(describing: touched?.lease)), allocator \(String(describing: expected))") }
                answer = .touched(expected)
            case .expire:
                let ended = Set(book.expire(upTo: now))
                let expected = Set(twin.expire(upTo: now))
                if ended != expected { return scenario.failure("\(op): book ended \(ended.count) leases, allocator \(expected.count)") }
                answer = .ended(expected)
            case .release, .advance:
                break  // the book has no release: leases end by expiry or undo
            case .undo:
                if let lastAssignment { book.undo(lastAssignment) }
                if let lastOutcome { twin.undo(lastOutcome) }
            case .add(let number):
                try book.add(number, toPool: "p")
                twin.add(number)
            case .retire(let number):
                try book.retire(number, fromPool: "p")
                twin.retire(number)
            case .policy(let policy):
                book.expire(upTo: now)
                try book.update(policy: policy, ofPool: "p")
                twin.expire(upTo: now)
                twin.update(policy: policy)
            }
            scenario.learn(op, answer)
            if Set(book.liveLeases(pool: "p")) != Set(twin.liveLeases) {
                return scenario.failure("after \(op): the book's live leases differ from the allocator's")
            }
        }
        return nil
    }
}
