import CallTrackCore
import Testing
import TestSupport

/// One step of a random allocator run. Every step happens at the scenario's current time.
enum AllocatorOp: CustomStringConvertible {
    case advance(Duration)
    case allocate(SessionID, VisitorID, previous: PhoneNumber?)
    case touch(SessionID)
    case expire
    case release(SessionID)
    /// Undo of the allocation just made (the store refused it).
    case undo
    case add(PhoneNumber)
    case retire(PhoneNumber)
    /// Leases overdue under the old policy are expired first, as a caller with a clock does.
    case policy(PoolPolicy)

    var description: String {
        switch self {
        case .advance(let d): "advance \(d.microseconds / 1_000_000)s"
        case .allocate(let s, let v, let p): "allocate \(s) \(v) previous \(p.map(\.e164) ?? "-")"
        case .touch(let s): "touch \(s)"
        case .expire: "expire"
        case .release(let s): "release \(s)"
        case .undo: "undo"
        case .add(let n): "add \(n)"
        case .retire(let n): "retire \(n)"
        case .policy(let p):
            "policy ttl \(p.idleTTL.microseconds / 1_000_000)s max \(p.maxAge.microseconds / 1_000_000)s "
                + "cooldown \(p.cooldown.microseconds / 1_000_000)s \(p.onExhaustion)"
        }
    }
}

/// What an operation answered: compared between the allocator and the reference model.
enum AllocatorAnswer: Equatable, CustomStringConvertible {
    case outcome(PoolAllocator.Outcome)
    case touched(Lease?)
    case ended(Set<Lease>)
    case done

    var description: String {
        switch self {
        case .outcome(.existing(let l)): "existing \(l.number)"
        case .outcome(.leased(let l, let sticky)): "leased \(l.number)\(sticky ? " sticky" : "")"
        case .outcome(.shared(let l, let holder)): "shared \(l.number) with \(holder)"
        case .outcome(.exhausted): "exhausted"
        case .touched(let l): "touched \(l.map { "\($0.number) until \($0.expiresAt)" } ?? "nothing")"
        case .ended(let ls): "ended \(ls.map(\.sessionID).sorted())"
        case .done: "ok"
        }
    }
}

/// A random, reproducible sequence of allocator operations on a small pool: small so that it runs
/// out, cools down and shares often. The generator learns from the answers (which sessions hold a
/// lease, which number each visitor had last) so that its operations stay meaningful.
struct AllocatorScenario {
    let seed: UInt64
    var rng: SeededRandom
    var now = Timestamp.seconds(1_700_000_000)
    let start = Timestamp.seconds(1_700_000_000)
    var policy: PoolPolicy
    /// Every number ever added, in the order it joined the pool.
    var numbers: [PhoneNumber]
    var retired: Set<PhoneNumber> = []
    var sessions: [SessionID] = []
    var visitorOf: [SessionID: VisitorID] = [:]
    var lastNumberOf: [VisitorID: PhoneNumber] = [:]
    var lastWasAllocation = false
    var log: [String] = []
    let visitors: [VisitorID]
    /// Session ids of every shape the allocator stores differently (see `SessionKey`), and other
    /// spellings of the same id, instead of only short ASCII ones.
    let mixedIDs: Bool

    init(seed: UInt64, poolSizes: ClosedRange<Int> = 1...8, mixedIDs: Bool = false) {
        self.seed = seed
        self.mixedIDs = mixedIDs
        rng = SeededRandom(seed: seed)
        let size = Int.random(in: poolSizes, using: &rng)
        numbers = (0..<size).map(AllocatorScenario.number)
        // Visitor ids of every shape too: the allocator keeps a visitor inline in the lease record like a session.
        visitors = (0..<Int.random(in: 1...12, using: &rng)).map {
            mixedIDs ? "v" + AllocatorScenario.mixedID($0).dropFirst() : "v\($0)"
        }
        policy = PoolPolicy()
        policy = randomPolicy()
        log.append("seed \(seed): pool of \(size), \(visitors.count) visitors, \(AllocatorOp.policy(policy))")
    }

    static func number(_ i: Int) -> PhoneNumber {
        let digits = String(i)
        do { return try PhoneNumber.e164("+7495" + String(repeating: "0", count: 7 - digits.count) + digits) } catch {
            preconditionFailure("test number \(i): \(error)")
        }
    }

    var activeNumbers: [PhoneNumber] { numbers.filter { !retired.contains($0) } }

    func makeAllocator() -> PoolAllocator { PoolAllocator(poolID: "p", numbers: numbers, policy: policy) }
    func makeModel() -> AllocatorReferenceModel { AllocatorReferenceModel(poolID: "p", numbers: numbers, policy: policy) }

    mutating func randomPolicy() -> PoolPolicy {
        let minutes = { (range: ClosedRange<Int64>, rng: inout SeededRandom) in Duration.seconds(60 * Int64.random(in: range, using: &rng)) }
        return PoolPolicy(
            idleTTL: minutes(1...30, &rng), maxAge: minutes(5...120, &rng),
            cooldown: rng.chance(0.15) ? .zero : minutes(1...20, &rng),
            onExhaustion: rng.chance(0.5) ? .share : .fallback)
    }

    mutating func randomStep() -> Duration {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<25: .zero
        case 25..<60: .seconds(Int64.random(in: 1...60, using: &rng))
        case 60..<95: .seconds(Int64.random(in: 60...1_200, using: &rng))
        default: .seconds(Int64.random(in: 3_600...10_800, using: &rng))
        }
    }

    /// The next operation; `learn` must see its answer before the next call.
    mutating func next() -> AllocatorOp {
        let roll = Int.random(in: 0..<100, using: &rng)
        let op: AllocatorOp
        switch roll {
        case 0..<25: op = .advance(randomStep())
        case 25..<60: op = newAllocation()
        case 60..<75 where !sessions.isEmpty: op = .touch(respelled(rng.pick(sessions.suffix(20))))
        case 75..<80: op = .expire
        case 80..<84 where !sessions.isEmpty: op = .release(respelled(rng.pick(sessions.suffix(20))))
        case 84..<92 where lastWasAllocation: op = .undo
        case 92..<95: op = .add(rng.chance(0.5) && !retired.isEmpty ? rng.pick(retired.sorted()) : Self.number(numbers.count))
        case 95..<98 where activeNumbers.count > 1: op = .retire(rng.pick(activeNumbers))
        case 98..<100: op = .policy(randomPolicy())
        default: op = newAllocation()
        }
        return op
    }

    private mutating func newAllocation() -> AllocatorOp {
        let session: SessionID
        if !sessions.isEmpty, rng.chance(0.3) {
            session = respelled(rng.pick(sessions.suffix(20)))
        } else {
            session = mixedIDs ? Self.mixedID(sessions.count) : "s\(sessions.count)"
        }
        let visitor = visitorOf[session] ?? rng.pick(visitors)
        let previous: PhoneNumber? = switch Int.random(in: 0..<10, using: &rng) {
        case 0..<6: lastNumberOf[visitor]
        case 6..<8: rng.pick(numbers)
        default: nil
        }
        return .allocate(session, visitor, previous: previous)
    }

    /// Short, exactly inline-sized, longer, and non-ASCII ids.
    static func mixedID(_ n: Int) -> SessionID {
        switch n % 4 {
        case 0: return "s\(n)"
        case 1:
            let base = "s_\(n)_"
            return base + String(repeating: "x", count: 24 - base.utf8.count)
        case 2: return "s_\(n)_" + String(repeating: "long", count: 10)
        default: return "s\u{E9}ance\(n)"  // "séance", precomposed
        }
    }

    /// Sometimes the same id spelled another, canonically equal way: one session to a `String`.
    private mutating func respelled(_ session: SessionID) -> SessionID {
        guard mixedIDs, rng.chance(0.5) else { return session }
        return session.replacing("\u{E9}", with: "e\u{301}")
    }

    /// Takes note of an operation and its answer.
    mutating func learn(_ op: AllocatorOp, _ answer: AllocatorAnswer) {
        log.append("t+\((now - start).microseconds / 1_000_000)s \(op) -> \(answer)")
        lastWasAllocation = false
        switch op {
        case .advance(let d): now = now + d
        case .allocate(let session, let visitor, _):
            if visitorOf[session] == nil {
                visitorOf[session] = visitor
                sessions.append(session)
            }
            if case .outcome(let outcome) = answer, let lease = outcome.lease {
                lastNumberOf[visitor] = lease.number
                lastWasAllocation = outcome.isNew
            }
        case .add(let number):
            retired.remove(number)
            if !numbers.contains(number) { numbers.append(number) }
        case .retire(let number): retired.insert(number)
        case .policy(let p): policy = p
        case .touch, .expire, .release, .undo: break
        }
    }

    /// The seed and the last operations, for a failure message that can be replayed.
    func failure(_ message: String) -> Comment {
        let shown = log.count > 41 ? [log[0], "…"] + log.suffix(40) : log
        return Comment(rawValue: "seed \(seed): \(message)\n" + shown.joined(separator: "\n"))
    }
}

extension PoolAllocator.Outcome {
    var lease: Lease? {
        switch self {
        case .existing(let l), .leased(let l, _), .shared(let l, _): l
        case .exhausted: nil
        }
    }

    var isNew: Bool {
        switch self {
        case .leased, .shared: true
        case .existing, .exhausted: false
        }
    }
}

/// Runs one operation against the allocator, the way the lease book and the desk do.
func apply(_ op: AllocatorOp, to allocator: inout PoolAllocator, at now: Timestamp, lastOutcome: PoolAllocator.Outcome?) -> AllocatorAnswer {
    switch op {
    case .advance: return .done
    case .allocate(let s, let v, let p): return .outcome(allocator.allocate(session: s, visitor: v, previousNumber: p, at: now))
    case .touch(let s): return .touched(allocator.touch(session: s, at: now))
    case .expire: return .ended(Set(allocator.expire(upTo: now)))
    case .release(let s): allocator.release(session: s, at: now)
    case .undo: if let lastOutcome { allocator.undo(lastOutcome) }
    case .add(let n): allocator.add(n)
    case .retire(let n): allocator.retire(n)
    case .policy(let p):
        allocator.expire(upTo: now)
        allocator.update(policy: p)
    }
    return .done
}
