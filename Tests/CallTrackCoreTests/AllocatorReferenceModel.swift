import CallTrackCore

/// SPEC §Allocation rules 1–4 written the obvious way: every question is a linear scan.
///
/// The differential tests run it beside `PoolAllocator` (heaps, lazy deletion) and demand the
/// same answer to every operation. It is slow on purpose and has no cleverness to get wrong.
/// Ties are broken the way the allocator documents them: equal release times by the order
/// numbers joined the pool, equal idle times by session id.
struct AllocatorReferenceModel {
    struct Number {
        var number: PhoneNumber
        var releasedAt = Timestamp.epoch
        /// The visitor whose lease on this number ended last: it may have the number back in cooldown.
        var lastVisitor: VisitorID?
        var retired = false
    }

    struct Live: Hashable {
        var index: Int
        var visitor: VisitorID
        var start: Timestamp
        var lastActivity: Timestamp
        var shared: Bool
    }

    let poolID: String
    var policy: PoolPolicy
    var numbers: [Number] = []
    var live: [SessionID: Live] = [:]

    init(poolID: String, numbers: [PhoneNumber], policy: PoolPolicy) {
        self.poolID = poolID
        self.policy = policy
        for number in numbers { add(number) }
    }

    func deadline(_ l: Live) -> Timestamp {
        min(l.lastActivity + policy.idleTTL, l.start + policy.maxAge)
    }

    func lease(_ session: SessionID, _ l: Live) -> Lease {
        Lease(
            poolID: poolID, number: numbers[l.index].number, sessionID: session, visitorID: l.visitor,
            startedAt: l.start, lastActivityAt: l.lastActivity, expiresAt: deadline(l), shared: l.shared)
    }

    var liveLeases: Set<Lease> { Set(live.map { lease($0.key, $0.value) }) }

    func holders(_ index: Int) -> Int { live.values.count { $0.index == index } }

    func isCool(_ index: Int, at now: Timestamp) -> Bool { numbers[index].releasedAt + policy.cooldown <= now }

    func freeCount(at now: Timestamp) -> Int {
        numbers.indices.count { !numbers[$0].retired && holders($0) == 0 && isCool($0, at: now) }
    }

    @discardableResult
    mutating func expire(upTo now: Timestamp) -> Set<Lease> {
        let due = live.filter { deadline($0.value) <= now }
            .sorted { (deadline($0.value), $0.key) < (deadline($1.value), $1.key) }
        for (session, l) in due { end(session, l, at: deadline(l)) }
        return Set(due.map { lease($0.key, $0.value) })
    }

    mutating func end(_ session: SessionID, _ l: Live, at time: Timestamp) {
        live[session] = nil
        if time >= numbers[l.index].releasedAt { numbers[l.index].lastVisitor = l.visitor }
        numbers[l.index].releasedAt = max(numbers[l.index].releasedAt, time)
    }

    mutating func touch(session: SessionID, at now: Timestamp) -> Lease? {
        expire(upTo: now)
        guard var l = live[session] else { return nil }
        l.lastActivity = max(l.lastActivity, now)
        live[session] = l
        return lease(session, l)
    }

    /// Rules 1–4, after the caller expired leases up to `now`.
    mutating func allocateAfterExpiry(
        session: SessionID, visitor: VisitorID, previousNumber: PhoneNumber?, at now: Timestamp
    ) -> PoolAllocator.Outcome {
        if let touched = touch(session: session, at: now) { return .existing(touched) }
        // Rule 2: the visitor's previous number, if nobody holds it and it cooled (or it cools from this visitor).
        if let previous = previousNumber, let index = numbers.firstIndex(where: { $0.number == previous }),
           !numbers[index].retired, holders(index) == 0,
           isCool(index, at: now) || numbers[index].lastVisitor == visitor {
            return .leased(start(session, visitor, index, now, shared: false), sticky: true)
        }
        // Rule 3: the free number released longest ago.
        let free = numbers.indices.filter { !numbers[$0].retired && holders($0) == 0 && isCool($0, at: now) }
        if let index = free.min(by: { (numbers[$0].releasedAt, $0) < (numbers[$1].releasedAt, $1) }) {
            return .leased(start(session, visitor, index, now, shared: false), sticky: false)
        }
        // Rule 4: share the lease idle longest, or fall back.
        guard policy.onExhaustion == .share,
              let (holder, l) = live.filter({ !numbers[$0.value.index].retired })
                .min(by: { ($0.value.lastActivity, $0.key) < ($1.value.lastActivity, $1.key) })
        else { return .exhausted }
        return .shared(start(session, visitor, l.index, now, shared: true), with: holder)
    }

    mutating func start(_ session: SessionID, _ visitor: VisitorID, _ index: Int, _ now: Timestamp, shared: Bool) -> Lease {
        let l = Live(index: index, visitor: visitor, start: now, lastActivity: now, shared: shared)
        live[session] = l
        return lease(session, l)
    }

    mutating func release(session: SessionID, at now: Timestamp) {
        expire(upTo: now)
        guard let l = live[session] else { return }
        end(session, l, at: now)
    }

    mutating func add(_ number: PhoneNumber) {
        if let index = numbers.firstIndex(where: { $0.number == number }) {
            numbers[index].retired = false
        } else {
            numbers.append(Number(number: number))
        }
    }

    mutating func retire(_ number: PhoneNumber) {
        if let index = numbers.firstIndex(where: { $0.number == number }) { numbers[index].retired = true }
    }
}
