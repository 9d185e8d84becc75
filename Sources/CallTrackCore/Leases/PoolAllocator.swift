import HeapModule

/// The lease state of one pool, and the allocation rules of SPEC §Allocation 1–4.
///
/// Every operation is O(log n) in pool size (amortised): free numbers wait in a heap
/// ordered by release time, live leases in heaps ordered by deadline and by last
/// activity. Heaps are cleaned lazily: an entry is checked against the slot or lease
/// it names when it reaches the top. Memory follows the pool size and the live leases,
/// never the number of sessions served. Time is always passed in.
public struct PoolAllocator: Sendable {
    public let poolID: String
    public private(set) var policy: PoolPolicy

    private var slots: [Slot] = []
    private var slotByNumber: [PhoneNumber: Int] = [:]
    private var live: [SessionID: LiveLease] = [:]
    private var free = Heap<FreeEntry>()
    private var deadlines = Heap<TimedEntry>()
    private var idleOrder = Heap<TimedEntry>()

    public init(poolID: String, numbers: [PhoneNumber], policy: PoolPolicy) {
        self.poolID = poolID
        self.policy = policy
        for number in numbers { add(number) }
    }

    // MARK: Reading

    public var size: Int { slots.lazy.filter { !$0.retired }.count }
    public var liveLeaseCount: Int { live.count }
    public var numbers: [PhoneNumber] { slots.filter { !$0.retired }.map(\.number) }

    public func lease(of session: SessionID) -> Lease? {
        live[session].map { makeLease(session, $0) }
    }

    public var liveLeases: [Lease] { live.map { makeLease($0.key, $0.value) } }

    /// Numbers neither leased nor cooling down at `now`.
    public func freeCount(at now: Timestamp) -> Int {
        slots.lazy.filter { !$0.retired && $0.holders == 0 && $0.releasedAt + policy.cooldown <= now }.count
    }

    // MARK: Allocation

    public enum Outcome: Hashable, Sendable {
        /// The session already held a live lease: it was touched (rule 1).
        case existing(Lease)
        /// A new lease on a free number; `sticky` when it is the visitor's previous number (rules 2, 3).
        case leased(Lease, sticky: Bool)
        /// No free number; the policy is `share`: the number idle longest now has two holders (rule 4).
        case shared(Lease, with: SessionID)
        /// No free number; the policy is `fallback` (or nothing live to share): serve the default number.
        case exhausted
    }

    /// Leases a number to `session` or touches its live lease. `previousNumber` is the number the
    /// visitor held last (from the visitor record), tried first when it is free.
    public mutating func allocate(
        session: SessionID, visitor: VisitorID, previousNumber: PhoneNumber? = nil, at now: Timestamp
    ) -> Outcome {
        expire(upTo: now)
        if let touched = touch(session: session, at: now) { return .existing(touched) }

        if let previous = previousNumber, let slot = slotByNumber[previous], isAvailable(slot, for: visitor, at: now) {
            return .leased(start(session, visitor: visitor, slot: slot, at: now, shared: false), sticky: true)
        }
        if let slot = popLeastRecentlyReleased(at: now) {
            return .leased(start(session, visitor: visitor, slot: slot, at: now, shared: false), sticky: false)
        }
        guard policy.onExhaustion == .share, let (holder, slot) = idlestLiveLease() else { return .exhausted }
        return .shared(start(session, visitor: visitor, slot: slot, at: now, shared: true), with: holder)
    }

    /// Keeps a live lease alive (a page ping); nil when the session holds none.
    @discardableResult
    public mutating func touch(session: SessionID, at now: Timestamp) -> Lease? {
        expire(upTo: now)
        guard var lease = live[session] else { return nil }
        lease.lastActivity = max(lease.lastActivity, now)
        live[session] = lease
        let deadline = lease.deadline(policy)
        deadlines.insert(TimedEntry(time: deadline, session: session))
        idleOrder.insert(TimedEntry(time: lease.lastActivity, session: session))
        compactIfBloated()
        return makeLease(session, lease)
    }

    /// Ends every lease whose deadline is at or before `now`; the number starts cooling down from
    /// that deadline. Returns the leases that ended.
    @discardableResult
    public mutating func expire(upTo now: Timestamp) -> [Lease] {
        var ended: [Lease] = []
        while let top = deadlines.min, top.time <= now {
            deadlines.removeMin()
            guard let lease = live[top.session], lease.deadline(policy) == top.time else { continue }
            ended.append(makeLease(top.session, lease))
            end(top.session, lease, at: top.time)
        }
        return ended
    }

    /// Ends a session's lease now (the caller undoes an allocation it could not persist).
    public mutating func release(session: SessionID, at now: Timestamp) {
        // A lease already past its deadline ended then, not now: its cooldown started then.
        expire(upTo: now)
        guard let lease = live[session] else { return }
        end(session, lease, at: now)
    }

    /// Forgets an allocation that was never acknowledged: the number returns to where it was,
    /// without a cooldown, because nobody saw it.
    public mutating func undo(_ outcome: Outcome) {
        switch outcome {
        case .leased(let lease, _), .shared(let lease, _):
            guard let state = live.removeValue(forKey: lease.sessionID) else { return }
            slots[state.slot].holders -= 1
            if slots[state.slot].holders == 0 {
                slots[state.slot].releasedAt = state.previousRelease
                slots[state.slot].lastVisitor = state.previousVisitor
                free.insert(FreeEntry(releasedAt: state.previousRelease, slot: state.slot))
            }
        case .existing, .exhausted:
            return
        }
    }

    // MARK: Pool changes (admin API)

    public mutating func add(_ number: PhoneNumber) {
        if let slot = slotByNumber[number] {
            guard slots[slot].retired else { return }
            slots[slot].retired = false
            // Idle-order entries of a retired number's live leases were dropped; a rebuild brings them back.
            if slots[slot].holders == 0 { free.insert(FreeEntry(releasedAt: slots[slot].releasedAt, slot: slot)) } else { rebuildHeaps() }
            return
        }
        let slot = slots.count
        slots.append(Slot(number: number, releasedAt: .epoch))
        slotByNumber[number] = slot
        free.insert(FreeEntry(releasedAt: .epoch, slot: slot))
    }

    /// Stops handing out `number`; a live lease on it runs to its end.
    public mutating func retire(_ number: PhoneNumber) {
        guard let slot = slotByNumber[number] else { return }
        slots[slot].retired = true
    }

    public mutating func update(policy newPolicy: PoolPolicy) {
        policy = newPolicy
        rebuildHeaps()
    }

    /// Restores state after a restart: the leases not yet ended and each number's last release.
    public mutating func restore(liveLeases: [Lease], lastReleases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)]) {
        for (number, release) in lastReleases {
            guard let slot = slotByNumber[number] else { continue }
            slots[slot].releasedAt = release.at
            slots[slot].lastVisitor = release.visitor
        }
        for lease in liveLeases {
            guard let slot = slotByNumber[lease.number] else { continue }
            // The store's last release of a held number may be the live lease's own expiry; only the
            // max with the coming end counts, so anything not after the lease's start is exact.
            slots[slot].releasedAt = min(slots[slot].releasedAt, lease.startedAt)
            slots[slot].holders += 1
            slots[slot].lastVisitor = lease.visitorID
            live[lease.sessionID] = LiveLease(
                slot: slot, visitor: lease.visitorID, start: lease.startedAt, lastActivity: lease.lastActivityAt,
                shared: lease.shared, previousRelease: slots[slot].releasedAt, previousVisitor: nil)
        }
        rebuildHeaps()
    }

    // MARK: Internals

    private struct Slot: Sendable {
        var number: PhoneNumber
        var releasedAt: Timestamp
        var holders = 0
        var lastVisitor: VisitorID?
        var retired = false
    }

    private struct LiveLease: Sendable {
        var slot: Int
        var visitor: VisitorID
        var start: Timestamp
        var lastActivity: Timestamp
        var shared: Bool
        var previousRelease: Timestamp
        var previousVisitor: VisitorID?

        func deadline(_ policy: PoolPolicy) -> Timestamp {
            min(lastActivity + policy.idleTTL, start + policy.maxAge)
        }
    }

    private struct FreeEntry: Comparable, Sendable {
        var releasedAt: Timestamp
        var slot: Int
        static func < (a: Self, b: Self) -> Bool { (a.releasedAt, a.slot) < (b.releasedAt, b.slot) }
    }

    private struct TimedEntry: Comparable, Sendable {
        var time: Timestamp
        var session: SessionID
        // Ties broken by session: the same state always gives the same answer (restore, replays).
        static func < (a: Self, b: Self) -> Bool { (a.time, a.session) < (b.time, b.session) }
        static func == (a: Self, b: Self) -> Bool { a.time == b.time && a.session == b.session }
    }

    private func isAvailable(_ slot: Int, for visitor: VisitorID, at now: Timestamp) -> Bool {
        let state = slots[slot]
        guard !state.retired, state.holders == 0 else { return false }
        // The cooldown protects other visitors from a late caller; the same visitor may have it back.
        return state.releasedAt + policy.cooldown <= now || state.lastVisitor == visitor
    }

    private mutating func popLeastRecentlyReleased(at now: Timestamp) -> Int? {
        while let top = free.min {
            let state = slots[top.slot]
            guard !state.retired, state.holders == 0, state.releasedAt == top.releasedAt else {
                free.removeMin()
                continue
            }
            // Release times order the heap and the cooldown is the same for all: if the top is still
            // cooling, every other free number is too.
            guard top.releasedAt + policy.cooldown <= now else { return nil }
            free.removeMin()
            return top.slot
        }
        return nil
    }

    private mutating func idlestLiveLease() -> (SessionID, Int)? {
        while let top = idleOrder.min {
            if let lease = live[top.session], lease.lastActivity == top.time, !slots[lease.slot].retired {
                return (top.session, lease.slot)
            }
            idleOrder.removeMin()
        }
        return nil
    }

    private mutating func start(_ session: SessionID, visitor: VisitorID, slot: Int, at now: Timestamp, shared: Bool) -> Lease {
        let state = LiveLease(
            slot: slot, visitor: visitor, start: now, lastActivity: now, shared: shared,
            previousRelease: slots[slot].releasedAt, previousVisitor: slots[slot].lastVisitor)
        slots[slot].holders += 1
        slots[slot].lastVisitor = visitor
        live[session] = state
        deadlines.insert(TimedEntry(time: state.deadline(policy), session: session))
        idleOrder.insert(TimedEntry(time: now, session: session))
        compactIfBloated()
        return makeLease(session, state)
    }

    private mutating func end(_ session: SessionID, _ lease: LiveLease, at time: Timestamp) {
        live[session] = nil
        slots[lease.slot].holders -= 1
        // The visitor whose lease ended last may have the number back within the cooldown: a late
        // call to it would be matched to that visitor anyway (SPEC §Matching 3), and the store
        // recovers the same visitor after a restart.
        if time >= slots[lease.slot].releasedAt { slots[lease.slot].lastVisitor = lease.visitor }
        slots[lease.slot].releasedAt = max(slots[lease.slot].releasedAt, time)
        if slots[lease.slot].holders == 0 {
            free.insert(FreeEntry(releasedAt: slots[lease.slot].releasedAt, slot: lease.slot))
        }
    }

    private func makeLease(_ session: SessionID, _ state: LiveLease) -> Lease {
        Lease(
            poolID: poolID, number: slots[state.slot].number, sessionID: session, visitorID: state.visitor,
            startedAt: state.start, lastActivityAt: state.lastActivity, expiresAt: state.deadline(policy),
            shared: state.shared)
    }

    /// Stale heap entries pile up with pings; rebuild when they outnumber the real ones.
    private mutating func compactIfBloated() {
        let limit = 2 * (slots.count + live.count) + 64
        if deadlines.count > limit || idleOrder.count > limit || free.count > limit { rebuildHeaps() }
    }

    private mutating func rebuildHeaps() {
        let slots = self.slots
        free = Heap(slots.indices.filter { slots[$0].holders == 0 && !slots[$0].retired }
            .map { FreeEntry(releasedAt: slots[$0].releasedAt, slot: $0) })
        deadlines = Heap(live.map { TimedEntry(time: $0.value.deadline(policy), session: $0.key) })
        idleOrder = Heap(live.map { TimedEntry(time: $0.value.lastActivity, session: $0.key) })
    }
}
