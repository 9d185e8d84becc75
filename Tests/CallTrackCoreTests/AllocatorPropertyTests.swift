import CallTrackCore
import Testing
import TestSupport

/// Random operation sequences against `PoolAllocator` with a seeded generator and a manual
/// time line. A failure prints its seed and the operations that led to it; rerun one seed with
/// `AllocatorRun(seed:).differential()` (or the other checks) to replay it.
@Suite("Allocator properties", .cpuBound)
struct AllocatorPropertyTests {
    /// 8 shards × 40 seeds × 400 operations; the last two shards use larger pools.
    static let shards = Array(0..<8)

    static func seeds(_ shard: Int) -> [UInt64] { (0..<40).map { UInt64(shard * 1_000 + $0 + 1) } }
    static func poolSizes(_ shard: Int) -> ClosedRange<Int> { shard < 6 ? 1...8 : 10...40 }

    @Test("rules 1–4, cooldown, idle TTL and max age hold after every random operation", arguments: shards)
    func invariants(shard: Int) {
        for seed in Self.seeds(shard) {
            var run = AllocatorRun(seed: seed, poolSizes: Self.poolSizes(shard))
            if let failure = run.invariants(steps: 400) { Issue.record(failure); return }
        }
    }

    @Test("answers exactly like the O(n) reference model, undo included", arguments: shards)
    func differential(shard: Int) {
        for seed in Self.seeds(shard) {
            var run = AllocatorRun(seed: seed, poolSizes: Self.poolSizes(shard))
            if let failure = run.differential(steps: 400) { Issue.record(failure); return }
        }
    }

    @Test("restore from live leases and last releases answers like the allocator that never stopped", arguments: shards)
    func restore(shard: Int) {
        for seed in Self.seeds(shard) {
            var run = AllocatorRun(seed: seed, poolSizes: Self.poolSizes(shard))
            if let failure = run.restoreMidway(steps: 400) { Issue.record(failure); return }
        }
    }

    @Test("answers like the reference model for ids of every shape and spelling, on pools big enough to grow the table")
    func differentialMixedIDs() {
        for seed in (0..<20).map({ UInt64(9_000 + $0) }) {
            var run = AllocatorRun(seed: seed, poolSizes: 30...120, mixedIDs: true)
            if let failure = run.differential(steps: 1_500) { Issue.record(failure); return }
        }
    }

    @Test("the checks can fail: an allocator that ignores the cooldown is caught")
    func observerCatchesABrokenAllocator() {
        // The same run, but every lease is released and handed straight to another visitor:
        // the observer must call it out, or the invariants above prove nothing.
        var scenario = AllocatorScenario(seed: 7, poolSizes: 1...1)
        var allocator = PoolAllocator(poolID: "p", numbers: scenario.numbers, policy: PoolPolicy(cooldown: .seconds(900)))
        var observer = AllocatorObserver()
        let now = scenario.now
        let first = allocator.allocate(session: "a", visitor: "va", at: now)
        _ = observer.check(first, session: "a", visitor: "va", previous: nil, pool: scenario.numbers, policy: allocator.policy, at: now)
        _ = observer.observe(allocator, at: now)
        allocator.release(session: "a", at: now)
        _ = observer.observe(allocator, at: now, released: "a")
        // A broken allocator would now lease the cooling number to "b"; feed that answer to the observer.
        let forged = PoolAllocator.Outcome.leased(
            Lease(poolID: "p", number: scenario.numbers[0], sessionID: "b", visitorID: "vb", startedAt: now, lastActivityAt: now, expiresAt: now + .seconds(1200)),
            sticky: false)
        let verdict = observer.check(forged, session: "b", visitor: "vb", previous: nil, pool: scenario.numbers, policy: allocator.policy, at: now)
        #expect(verdict?.contains("within the cooldown") == true)
        scenario.now = now
    }
}

/// One seeded run: the allocator under test and, depending on the check, the reference model,
/// the outside observer or a restored twin.
struct AllocatorRun {
    var scenario: AllocatorScenario
    var allocator: PoolAllocator
    var lastOutcome: PoolAllocator.Outcome?

    init(seed: UInt64, poolSizes: ClosedRange<Int>, mixedIDs: Bool = false) {
        scenario = AllocatorScenario(seed: seed, poolSizes: poolSizes, mixedIDs: mixedIDs)
        allocator = scenario.makeAllocator()
    }

    private mutating func step(_ op: AllocatorOp) -> AllocatorAnswer {
        let answer = apply(op, to: &allocator, at: scenario.now, lastOutcome: lastOutcome)
        if case .outcome(let outcome) = answer { lastOutcome = outcome }
        return answer
    }

    /// The outside observer judges every answer; see `AllocatorObserver`.
    mutating func invariants(steps: Int) -> Comment? {
        var observer = AllocatorObserver()
        for _ in 0..<steps {
            if let failure = observedStep(&observer) { return failure }
        }
        return nil
    }

    /// One random operation, with the observer looking before and after it.
    private mutating func observedStep(_ observer: inout AllocatorObserver) -> Comment? {
        let op = scenario.next()
        let now = scenario.now
        if let problem = observer.observe(allocator, at: now) { return scenario.failure(problem) }
        let answer = step(op)
        switch (op, answer) {
        case (.allocate(let s, let v, let p), .outcome(let outcome)):
            if let problem = observer.check(outcome, session: s, visitor: v, previous: p, pool: scenario.activeNumbers, policy: allocator.policy, at: now) {
                return scenario.failure("\(op) -> \(answer): \(problem)")
            }
        case (.touch(let s), .touched(let lease)):
            if let problem = observer.touched(lease, session: s, at: now) { return scenario.failure(problem) }
        default: break
        }
        var released: SessionID?
        var undone: SessionID?
        if case .release(let s) = op { released = s }
        if case .undo = op { undone = lastOutcome?.lease?.sessionID }
        scenario.learn(op, answer)
        if let problem = observer.observe(allocator, at: now, released: released, undone: undone) {
            return scenario.failure("after \(op): \(problem)")
        }
        return nil
    }

    /// Same answers as `AllocatorReferenceModel` to every operation, same live leases and free
    /// count after it; after an undo, the allocator is indistinguishable from a copy taken before.
    mutating func differential(steps: Int) -> Comment? {
        var model = scenario.makeModel()
        var modelBefore = model
        var allocatorBefore = allocator
        for _ in 0..<steps {
            let op = scenario.next()
            let now = scenario.now
            let expected: AllocatorAnswer
            switch op {
            case .advance: expected = .done
            case .allocate(let s, let v, let p):
                model.expire(upTo: now)
                modelBefore = model
                allocatorBefore = allocator
                allocatorBefore.expire(upTo: now)
                expected = .outcome(model.allocateAfterExpiry(session: s, visitor: v, previousNumber: p, at: now))
            case .touch(let s): expected = .touched(model.touch(session: s, at: now))
            case .expire: expected = .ended(model.expire(upTo: now))
            case .release(let s):
                model.release(session: s, at: now)
                expected = .done
            case .undo:
                model = modelBefore
                expected = .done
            case .add(let n):
                model.add(n)
                expected = .done
            case .retire(let n):
                model.retire(n)
                expected = .done
            case .policy(let p):
                model.expire(upTo: now)
                model.policy = p
                expected = .done
            }
            let answer = step(op)
            scenario.learn(op, answer)
            if answer != expected { return scenario.failure("\(op): allocator answered \(answer), the model \(expected)") }
            if Set(allocator.liveLeases) != model.liveLeases { return scenario.failure("after \(op): live leases differ from the model") }
            if allocator.freeCount(at: now) != model.freeCount(at: now) {
                return scenario.failure("after \(op): \(allocator.freeCount(at: now)) free numbers, the model has \(model.freeCount(at: now))")
            }
            if case .undo = op, Fingerprint(allocator, scenario, at: now) != Fingerprint(allocatorBefore, scenario, at: now) {
                return scenario.failure("after undo the allocator answers differently from before the allocation")
            }
        }
        return nil
    }

    /// Runs half the steps, restarts a twin from what the store would hold (live leases and each
    /// number's last release), and demands the same answers from both for the rest.
    mutating func restoreMidway(steps: Int) -> Comment? {
        var observer = AllocatorObserver()
        for _ in 0..<steps / 2 {
            if let failure = observedStep(&observer) { return failure }
        }
        // The restart happens at the current time: the observer must have seen every end up to it.
        if let problem = observer.observe(allocator, at: scenario.now) { return scenario.failure(problem) }
        var twin = restored(from: observer, at: scenario.now)
        // The twin never saw leases that had ended by the restart; expiring them in the original
        // too keeps the `expire` answers comparable (lazy expiry changes no other answer).
        allocator.expire(upTo: scenario.now)
        var twinLastOutcome: PoolAllocator.Outcome?
        scenario.lastWasAllocation = false  // an unstored allocation is not in the store to undo
        for _ in steps / 2..<steps {
            let op = scenario.next()
            let now = scenario.now
            let answer = step(op)
            let other = apply(op, to: &twin, at: now, lastOutcome: twinLastOutcome)
            if case .outcome(let outcome) = other { twinLastOutcome = outcome }
            scenario.learn(op, answer)
            if other != answer { return scenario.failure("\(op): restored allocator answered \(other), the original \(answer)") }
            if Set(twin.liveLeases) != Set(allocator.liveLeases) { return scenario.failure("after \(op): live leases differ after restore") }
        }
        return nil
    }

    /// A fresh allocator fed what `StateStore.recovery` returns: the live leases, and per number
    /// the lease with the latest expiry (a live one if any) with its visitor.
    private func restored(from observer: AllocatorObserver, at now: Timestamp) -> PoolAllocator {
        var store = allocator
        store.expire(upTo: now)
        let live = store.liveLeases
        var releases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)] = [:]
        for (number, end) in observer.lastEnd { releases[number] = (end, observer.lastEndVisitor[number]!) }
        for lease in live where lease.expiresAt > releases[lease.number]?.at ?? .epoch {
            releases[lease.number] = (lease.expiresAt, lease.visitorID)
        }
        var fresh = PoolAllocator(poolID: "p", numbers: scenario.numbers, policy: allocator.policy)
        for number in scenario.retired { fresh.retire(number) }
        fresh.restore(liveLeases: live, lastReleases: releases)
        return fresh
    }
}

/// What an allocator would answer next, probed on copies: live leases and free counts at a few
/// future times, every visitor asking for numbers across the pool (every number of a small pool; 16 spread
/// over a big one, since each probe copies the allocator), and a run of new sessions that drains the pool.
struct Fingerprint: Equatable {
    var live: [Set<Lease>] = []
    var free: [Int] = []
    var answers: [PoolAllocator.Outcome] = []

    init(_ allocator: PoolAllocator, _ scenario: AllocatorScenario, at now: Timestamp) {
        let policy = allocator.policy
        let stride = max(1, scenario.numbers.count / 16)
        let probed = scenario.numbers.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        for time in [now, now + policy.cooldown / 2, now + policy.cooldown + .seconds(1), now + policy.maxAge + policy.cooldown] {
            var copy = allocator
            copy.expire(upTo: time)
            live.append(Set(copy.liveLeases))
            free.append(copy.freeCount(at: time))
            for visitor in scenario.visitors {
                for number in probed {
                    var probe = copy
                    answers.append(probe.allocate(session: "probe", visitor: visitor, previousNumber: number, at: time))
                }
            }
            var drain = copy
            for i in 0...scenario.numbers.count {
                answers.append(drain.allocate(session: "drain\(i)", visitor: "drain", at: time))
            }
        }
    }
}
