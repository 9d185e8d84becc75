import HeapModule

/// The lease state of one pool, and the allocation rules of SPEC §Allocation 1–4.
///
/// Every operation is O(log n) in pool size (amortised): free numbers wait in a heap
/// ordered by release time, live leases in heaps ordered by deadline and by last
/// activity. Heaps are cleaned lazily: an entry is checked against the slot or lease
/// it names when it reaches the top. A ping moves no heap entry: a lease's entry is
/// moved to its real deadline (or last activity) only when it reaches the top, so
/// pings cost a dictionary lookup and the heaps hold one entry per live lease. Heap
/// entries name a lease by its place in `leases` (no strings, no reference counting),
/// so their cost does not grow with the ids' memory. Equal times are ordered by a
/// hash of the session id (`tieBreak`), the same before and after a restart. Memory
/// follows the pool size and the live leases, never the number of sessions served.
/// Time is always passed in.
public struct PoolAllocator: Sendable {
    public let poolID: String
    public private(set) var policy: PoolPolicy

    private var slots: [Slot] = []
    private var slotByNumber: [PhoneNumber: Int] = [:]
    /// The place in `leases` of each session's live lease.
    private var live: [SessionID: Int] = [:]
    /// Live leases; the place of an ended one is reused, with the next generation.
    private var leases: [LiveLease] = []
    private var vacant: [Int] = []
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
        live[session].map { makeLease($0) }
    }

    public var liveLeases: [Lease] { live.values.map { makeLease($0) } }

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
        guard let place = live[session] else { return nil }
        leases[place].lastActivity = max(leases[place].lastActivity, now)
        return makeLease(place, session: session)
    }

    /// Ends every lease whose deadline is at or before `now`; the number starts cooling down from
    /// that deadline. Returns the leases that ended.
    @discardableResult
    public mutating func expire(upTo now: Timestamp) -> [Lease] {
        var ended: [Lease] = []
        while let top = deadlines.min, top.time <= now {
            deadlines.removeMin()
            guard let place = current(top), leases[place].deadlineEntry == top.time else { continue }
            let deadline = leases[place].deadline(policy)
            if deadline != top.time {
                // Touched since it was scheduled: its entry moves to the real deadline, where it
                // ends in (deadline, tie) order like every other lease.
                leases[place].deadlineEntry = deadline
                deadlines.insert(TimedEntry(time: deadline, tie: top.tie, place: top.place, generation: top.generation))
                continue
            }
            ended.append(makeLease(place))
            end(place, at: top.time)
        }
        return ended
    }

    /// Ends a session's lease now (the caller undoes an allocation it could not persist).
    public mutating func release(session: SessionID, at now: Timestamp) {
        // A lease already past its deadline ended then, not now: its cooldown started then.
        expire(upTo: now)
        guard let place = live[session] else { return }
        end(place, at: now)
    }

    /// Forgets an allocation that was never acknowledged: the number returns to where it was,
    /// without a cooldown, because nobody saw it.
    public mutating func undo(_ outcome: Outcome) {
        switch outcome {
        case .leased(let lease, _), .shared(let lease, _):
            guard let place = live[lease.sessionID] else { return }
            let state = leases[place]
            vacate(place)
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
            guard let slot = slotByNumber[lease.number], live[lease.sessionID] == nil else { continue }
            // The store's last release of a held number may be the live lease's own expiry; only the
            // max with the coming end counts, so anything not after the lease's start is exact.
            slots[slot].releasedAt = min(slots[slot].releasedAt, lease.startedAt)
            slots[slot].holders += 1
            slots[slot].lastVisitor = lease.visitorID
            live[lease.sessionID] = occupy(LiveLease(
                session: lease.sessionID, slot: slot, visitor: lease.visitorID, start: lease.startedAt,
                lastActivity: lease.lastActivityAt, shared: lease.shared, previousRelease: slots[slot].releasedAt,
                previousVisitor: nil, deadlineEntry: lease.expiresAt, idleEntry: lease.lastActivityAt,
                tie: Self.tieBreak(lease.sessionID)))
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
        var session: SessionID
        var slot: Int
        var visitor: VisitorID
        var start: Timestamp
        var lastActivity: Timestamp
        var shared: Bool
        var previousRelease: Timestamp
        var previousVisitor: VisitorID?
        /// The times of this lease's one valid entry in `deadlines` and in `idleOrder`; any other
        /// entry naming its place is stale.
        var deadlineEntry: Timestamp
        var idleEntry: Timestamp
        var tie: UInt64
        /// Counts the leases that held this place: entries of earlier ones are stale.
        var generation: UInt32 = 0
        var occupied = true

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
        var tie: UInt64
        var place: Int32
        var generation: UInt32
        // Ties broken by the session's hash: the same state always gives the same answer (restore, replays).
        static func < (a: Self, b: Self) -> Bool { (a.time, a.tie, a.place) < (b.time, b.tie, b.place) }
    }

    /// FNV-1a of the session id: orders leases with equal deadlines or idle times.
    static func tieBreak(_ session: SessionID) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in session.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// The place an entry names, if the lease it was made for still holds it.
    private func current(_ entry: TimedEntry) -> Int? {
        let place = Int(entry.place)
        return leases[place].occupied && leases[place].generation == entry.generation ? place : nil
    }

    private mutating func occupy(_ lease: LiveLease) -> Int {
        var lease = lease
        guard let place = vacant.popLast() else {
            leases.append(lease)
            return leases.count - 1
        }
        lease.generation = leases[place].generation
        leases[place] = lease
        return place
    }

    private mutating func vacate(_ place: Int) {
        live[leases[place].session] = nil
        leases[place].occupied = false
        leases[place].generation &+= 1
        leases[place].session = ""
        leases[place].visitor = ""
        leases[place].previousVisitor = nil
        vacant.append(place)
    }

    private func entry(_ place: Int, at time: Timestamp) -> TimedEntry {
        TimedEntry(time: time, tie: leases[place].tie, place: Int32(place), generation: leases[place].generation)
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
            guard let place = current(top), leases[place].idleEntry == top.time, !slots[leases[place].slot].retired else {
                idleOrder.removeMin()
                continue
            }
            if leases[place].lastActivity != top.time {
                // Pinged since it was scheduled: move the entry to the real last activity.
                idleOrder.removeMin()
                leases[place].idleEntry = leases[place].lastActivity
                idleOrder.insert(entry(place, at: leases[place].idleEntry))
                continue
            }
            return (leases[place].session, leases[place].slot)
        }
        return nil
    }

    private mutating func start(_ session: SessionID, visitor: VisitorID, slot: Int, at now: Timestamp, shared: Bool) -> Lease {
        let place = occupy(LiveLease(
            session: session, slot: slot, visitor: visitor, start: now, lastActivity: now, shared: shared,
            previousRelease: slots[slot].releasedAt, previousVisitor: slots[slot].lastVisitor,
            deadlineEntry: min(now + policy.idleTTL, now + policy.maxAge), idleEntry: now, tie: Self.tieBreak(session)))
        slots[slot].holders += 1
        slots[slot].lastVisitor = visitor
        live[session] = place
        deadlines.insert(entry(place, at: leases[place].deadlineEntry))
        idleOrder.insert(entry(place, at: leases[place].idleEntry))
        compactIfBloated()
        return makeLease(place, session: session)
    }

    private mutating func end(_ place: Int, at time: Timestamp) {
        let slot = leases[place].slot
        slots[slot].holders -= 1
        // The visitor whose lease ended last may have the number back within the cooldown: a late
        // call to it would be matched to that visitor anyway (SPEC §Matching 3), and the store
        // recovers the same visitor after a restart.
        if time >= slots[slot].releasedAt { slots[slot].lastVisitor = leases[place].visitor }
        slots[slot].releasedAt = max(slots[slot].releasedAt, time)
        if slots[slot].holders == 0 {
            free.insert(FreeEntry(releasedAt: slots[slot].releasedAt, slot: slot))
        }
        vacate(place)
    }

    /// `session` is the caller's own copy of the id when it has one: no need to read the stored one.
    private func makeLease(_ place: Int, session: SessionID? = nil) -> Lease {
        let slot = leases[place].slot
        return Lease(
            poolID: poolID, number: slots[slot].number, sessionID: session ?? leases[place].session,
            visitorID: leases[place].visitor, startedAt: leases[place].start, lastActivityAt: leases[place].lastActivity,
            expiresAt: leases[place].deadline(policy), shared: leases[place].shared)
    }

    /// Stale heap entries (released, undone, retired leases) are dropped when they reach the top;
    /// rebuild when they outnumber the real ones anyway.
    private mutating func compactIfBloated() {
        let limit = 2 * (slots.count + live.count) + 64
        if deadlines.count > limit || idleOrder.count > limit || free.count > limit { rebuildHeaps() }
    }

    private mutating func rebuildHeaps() {
        let slots = self.slots
        free = Heap(slots.indices.filter { slots[$0].holders == 0 && !slots[$0].retired }
            .map { FreeEntry(releasedAt: slots[$0].releasedAt, slot: $0) })
        for place in leases.indices where leases[place].occupied {
            leases[place].deadlineEntry = leases[place].deadline(policy)
            leases[place].idleEntry = leases[place].lastActivity
        }
        let occupied = leases.indices.filter { leases[$0].occupied }
        deadlines = Heap(occupied.map { entry($0, at: leases[$0].deadlineEntry) })
        idleOrder = Heap(occupied.map { entry($0, at: leases[$0].idleEntry) })
    }
}
