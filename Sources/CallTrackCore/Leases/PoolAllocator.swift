import HeapModule

/// The lease state of one pool, and the allocation rules of SPEC §Allocation 1–4.
///
/// An allocation costs O(1) amortised in pool size: free numbers wait in a FIFO of releases
/// (`FreeQueue`, a side heap only for out-of-order releases), live leases in a timing wheel of
/// deadlines (`DeadlineQueue`), and, for a `share` pool only, a heap ordered by last activity.
/// Queues are cleaned lazily: an entry is checked against the slot or lease it names when it
/// reaches the head. A ping moves no entry: a lease's entry is moved to its real deadline only
/// when it comes due, so a ping costs one hash of the id and one probe. Equal times are ordered
/// by a hash of the session id (`tieBreak`), the same before and after a restart.
///
/// The cost per operation must not grow with the pool (a 100,000-number pool is served at
/// nearly the speed of a 10-number one), so the state is kept in few, compact arrays: plain
/// records indexed by integers, the session id inline in its lease record (`InlineID`), a
/// probe table of integers (`IndexTable`), times as microseconds, the visitor inline in its
/// lease record too and kept per number as its hash, and the number as an integer: a lease
/// record holds no reference, so ending one touches nothing but the record and its number.
/// Memory follows the pool size and the live leases, never the number of sessions served. Time
/// is always passed in.
public struct PoolAllocator: Sendable {
    public let poolID: String
    public private(set) var policy: PoolPolicy {
        didSet { limits = Limits(policy) }
    }
    private var limits: Limits

    private var slots: [Slot] = []
    /// Slot by number (`numberHash` of `PhoneNumber.packed`).
    private var slotByNumber = IndexTable()
    /// Live leases; the place of an ended one is reused, with the next generation.
    private var leases: [LiveLease] = []
    private var vacant: [Int] = []
    /// Session → place of its live lease.
    private var table = IndexTable()
    /// The session and visitor ids too long (or not ASCII) to sit inline in their lease record, by place.
    private var outOfLine: [Int: SessionID] = [:]
    private var outOfLineVisitors: [Int: VisitorID] = [:]
    private var free = FreeQueue()
    private var deadlines: DeadlineQueue
    /// `deadlines.turns` when the records of its reached entries were last prefetched.
    private var prefetchedTurn = 0
    /// Only kept for a `share` pool: a `fallback` pool never asks for the idlest lease.
    private var idleOrder = Heap<TimedEntry>()

    public init(poolID: String, numbers: [PhoneNumber], policy: PoolPolicy) {
        self.poolID = poolID
        self.policy = policy
        self.limits = Limits(policy)
        self.deadlines = DeadlineQueue(horizon: limits.horizon)
        for number in numbers { add(number) }
    }

    // MARK: Reading

    public var size: Int { slots.lazy.filter { !$0.retired }.count }
    public var liveLeaseCount: Int { table.count }
    public var numbers: [PhoneNumber] { slots.indices.filter { !slots[$0].retired }.map { PhoneNumber(packed: slots[$0].number) } }

    public func lease(of session: SessionID) -> Lease? {
        find(InlineID(session), session).map { makeLease($0, session: session) }
    }

    public var liveLeases: [Lease] { leases.indices.filter { leases[$0].occupied }.map { makeLease($0) } }

    /// Numbers neither leased nor cooling down at `now`.
    public func freeCount(at now: Timestamp) -> Int {
        let t = now.microsecondsSinceEpoch
        return slots.lazy.filter { !$0.retired && $0.holders == 0 && $0.releasedAt + self.limits.cooldown <= t }.count
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
        let t = now.microsecondsSinceEpoch
        let key = InlineID(session)
        // Loaded while expiry works: the new session's bucket, the previous number's.
        table.prefetch(hash: key.hash)
        let previous = previousNumber?.packed
        let previousHash = previous.map(Self.numberHash)
        if let previousHash { slotByNumber.prefetch(hash: previousHash) }
        expire(upTo: t, collecting: false)
        // The previous number's slot, as its bucket (here by now) names it, loads while the session is looked up.
        if let previousHash, let guess = slotByNumber.candidate(hash: previousHash) { slots.prefetch(guess) }
        if let place = find(key, session) { return .existing(touch(place, session: session, at: t)) }

        let visitorID = InlineID(visitor)
        if let previous, let slot = slotIndex(packed: previous, hash: previousHash), isAvailable(slot, for: visitorID, at: t) {
            return .leased(start(key, session, visitor: visitor, visitorID, slot: slot, at: t, shared: false), sticky: true)
        }
        if let slot = popLeastRecentlyReleased(at: t) {
            return .leased(start(key, session, visitor: visitor, visitorID, slot: slot, at: t, shared: false), sticky: false)
        }
        guard policy.onExhaustion == .share, let (holder, slot) = idlestLiveLease() else { return .exhausted }
        return .shared(start(key, session, visitor: visitor, visitorID, slot: slot, at: t, shared: true), with: holder)
    }

    /// Keeps a live lease alive (a page ping); nil when the session holds none.
    @discardableResult
    public mutating func touch(session: SessionID, at now: Timestamp) -> Lease? {
        let t = now.microsecondsSinceEpoch
        expire(upTo: t, collecting: false)
        guard let place = find(InlineID(session), session) else { return nil }
        return touch(place, session: session, at: t)
    }

    /// Ends every lease whose deadline is at or before `now`; the number starts cooling down from
    /// that deadline. Returns the leases that ended.
    @discardableResult
    public mutating func expire(upTo now: Timestamp) -> [Lease] {
        expire(upTo: now.microsecondsSinceEpoch, collecting: true)
    }

    /// Ends a session's lease now (the caller undoes an allocation it could not persist).
    public mutating func release(session: SessionID, at now: Timestamp) {
        let t = now.microsecondsSinceEpoch
        // A lease already past its deadline ended then, not now: its cooldown started then.
        expire(upTo: t, collecting: false)
        guard let place = find(InlineID(session), session) else { return }
        end(place, at: t)
    }

    /// Forgets an allocation that was never acknowledged: the number returns to where it was,
    /// without a cooldown, because nobody saw it.
    public mutating func undo(_ outcome: Outcome) {
        switch outcome {
        case .leased(let lease, _), .shared(let lease, _):
            guard let place = find(InlineID(lease.sessionID), lease.sessionID) else { return }
            let slot = leases[place].slot
            let previousRelease = leases[place].previousRelease
            let previousVisitor = leases[place].previousVisitor
            vacate(place)
            slots[slot].holders -= 1
            if slots[slot].holders == 0 {
                slots[slot].releasedAt = previousRelease
                slots[slot].lastVisitor = previousVisitor
                free.insert(FreeQueue.Entry(releasedAt: previousRelease, slot: Int32(slot)))
            }
        case .existing, .exhausted:
            return
        }
    }

    // MARK: Pool changes (admin API)

    public mutating func add(_ number: PhoneNumber) {
        if let slot = slotIndex(of: number) {
            guard slots[slot].retired else { return }
            slots[slot].retired = false
            // Idle-order entries of a retired number's live leases were dropped; a rebuild brings them back.
            if slots[slot].holders == 0 {
                free.insert(FreeQueue.Entry(releasedAt: slots[slot].releasedAt, slot: Int32(slot)))
            } else {
                rebuildHeaps()
            }
            return
        }
        let slot = slots.count
        slots.append(Slot(releasedAt: Timestamp.epoch.microsecondsSinceEpoch, number: number.packed))
        slotByNumber.insert(hash: Self.numberHash(number.packed), index: slot)
        free.insert(FreeQueue.Entry(releasedAt: Timestamp.epoch.microsecondsSinceEpoch, slot: Int32(slot)))
    }

    /// Stops handing out `number`; a live lease on it runs to its end.
    public mutating func retire(_ number: PhoneNumber) {
        guard let slot = slotIndex(of: number) else { return }
        slots[slot].retired = true
    }

    public mutating func update(policy newPolicy: PoolPolicy) {
        policy = newPolicy
        rebuildHeaps()
    }

    /// Restores state after a restart: the leases not yet ended and each number's last release.
    public mutating func restore(liveLeases: [Lease], lastReleases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)]) {
        for (number, release) in lastReleases {
            guard let slot = slotIndex(of: number) else { continue }
            slots[slot].releasedAt = release.at.microsecondsSinceEpoch
            slots[slot].lastVisitor = Self.visitorHash(release.visitor)
        }
        for lease in liveLeases {
            let key = InlineID(lease.sessionID)
            guard let slot = slotIndex(of: lease.number), find(key, lease.sessionID) == nil else { continue }
            // The store's last release of a held number may be the live lease's own expiry; only the
            // max with the coming end counts, so anything not after the lease's start is exact.
            slots[slot].releasedAt = min(slots[slot].releasedAt, lease.startedAt.microsecondsSinceEpoch)
            slots[slot].holders += 1
            slots[slot].lastVisitor = Self.visitorHash(lease.visitorID)
            occupy(key, lease.sessionID, LiveLease(
                slot: slot, number: slots[slot].number, visitor: InlineID(lease.visitorID),
                start: lease.startedAt.microsecondsSinceEpoch, lastActivity: lease.lastActivityAt.microsecondsSinceEpoch,
                shared: lease.shared, previousRelease: slots[slot].releasedAt, previousVisitor: 0,
                deadlineEntry: lease.expiresAt.microsecondsSinceEpoch, idleEntry: lease.lastActivityAt.microsecondsSinceEpoch),
                visitor: lease.visitorID)
        }
        rebuildHeaps()
    }

    // MARK: Internals

    /// The policy's durations in microseconds: `Duration` arithmetic is 128-bit.
    private struct Limits: Sendable {
        var idleTTL: Int64
        var maxAge: Int64
        var cooldown: Int64
        var sharing: Bool

        init(_ policy: PoolPolicy) {
            idleTTL = policy.idleTTL.microseconds
            maxAge = policy.maxAge.microseconds
            cooldown = policy.cooldown.microseconds
            sharing = policy.onExhaustion == .share
        }

        /// How far ahead of the latest activity a deadline can lie.
        var horizon: Int64 { min(idleTTL, maxAge) }
    }

    /// One number's state. Plain values only: a 100,000-number pool is one dense array, and a
    /// lease's start reads one record.
    private struct Slot: Sendable {
        var releasedAt: Int64
        /// `visitorHash` of the visitor whose lease on it ended last; 0 for none.
        var lastVisitor: UInt64 = 0
        var holders: Int32 = 0
        var retired = false
        /// `PhoneNumber.packed`.
        var number: UInt64
    }

    /// A live lease in 128 bytes. The first 64 hold what expiry reads and writes (validity, times,
    /// slot, visitor hash, table key, what an undo restores); the rest what a lookup and a ping read
    /// (the ids, inline when short) and the number. No field refers to the heap: ending a lease
    /// touches no string, and the record is rewritten in place by the next lease.
    private struct LiveLease: Sendable {
        /// The times of this lease's one valid entry in `deadlines` and in `idleOrder`; any other
        /// entry naming its place is stale.
        var deadlineEntry: Int64
        var start: Int64
        var lastActivity: Int64
        /// `visitorHash(visitor)`, what a number remembers of the visitor who held it.
        var visitorHash: UInt64
        var previousRelease: Int64
        var previousVisitor: UInt64
        /// Counts the leases that held this place: entries of earlier ones are stale.
        var generation: UInt32 = 0
        var slot32: Int32
        var keyHash: UInt32 = 0
        var keyCount: UInt8 = InlineID.notInline
        var visitorCount: UInt8 = InlineID.notInline
        var occupied = true
        var shared: Bool
        // Second half.
        var keyWords: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var visitorWords: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var idleEntry: Int64
        /// `PhoneNumber.packed`.
        var number: UInt64

        init(
            slot: Int, number: UInt64, visitor: InlineID, start: Int64, lastActivity: Int64, shared: Bool,
            previousRelease: Int64, previousVisitor: UInt64, deadlineEntry: Int64, idleEntry: Int64
        ) {
            self.slot32 = Int32(slot)
            self.number = number
            self.visitorHash = PoolAllocator.visitorHash(visitor)
            self.visitorWords = visitor.words
            self.visitorCount = visitor.count
            self.start = start
            self.lastActivity = lastActivity
            self.shared = shared
            self.previousRelease = previousRelease
            self.previousVisitor = previousVisitor
            self.deadlineEntry = deadlineEntry
            self.idleEntry = idleEntry
        }

        var slot: Int { Int(slot32) }
    }

    /// FNV-1a of the session id: orders leases with equal deadlines or idle times.
    static func tieBreak(_ session: SessionID) -> UInt64 {
        func fnv<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            return hash
        }
        // A native string's bytes are contiguous: a plain loop over them, not the UTF-8 view's iterator.
        return session.utf8.withContiguousStorageIfAvailable(fnv) ?? fnv(session.utf8)
    }

    /// A visitor as a number remembers it: the process-seeded string hash (0 means nobody). Two
    /// visitors collide with probability 2⁻⁶⁴, and ids cannot be crafted to collide without the seed.
    fileprivate static func visitorHash(_ visitor: VisitorID) -> UInt64 { visitorHash(InlineID(visitor)) }

    fileprivate static func visitorHash(_ visitor: InlineID) -> UInt64 { visitor.hash == 0 ? 1 : visitor.hash }

    private func deadline(_ place: Int) -> Int64 {
        min(leases[place].lastActivity + limits.idleTTL, leases[place].start + limits.maxAge)
    }

    /// The slot of `number`, if the pool has it.
    private func slotIndex(of number: PhoneNumber) -> Int? { slotIndex(packed: number.packed) }

    private func slotIndex(packed: UInt64, hash: UInt64? = nil) -> Int? {
        slotByNumber.find(hash: hash ?? Self.numberHash(packed)) { slots[$0].number == packed }
    }

    /// Spreads numbers of one range over the table (the finaliser of splitmix64). Not seeded: the
    /// numbers are the operator's own, not a client's.
    static func numberHash(_ packed: UInt64) -> UInt64 {
        var x = packed &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    /// The place of `session`'s live lease.
    private func find(_ key: InlineID, _ session: SessionID) -> Int? {
        table.find(hash: key.hash) { place in
            if key.isInline && leases[place].keyCount != InlineID.notInline {
                return key.sameInline(leases[place].keyWords, count: leases[place].keyCount)
            }
            return self.session(at: place) == session
        }
    }

    private func session(at place: Int) -> SessionID {
        let count = leases[place].keyCount
        return count == InlineID.notInline ? outOfLine[place]! : InlineID.string(leases[place].keyWords, count: count)
    }

    private func visitor(at place: Int) -> VisitorID {
        let count = leases[place].visitorCount
        return count == InlineID.notInline ? outOfLineVisitors[place]! : InlineID.string(leases[place].visitorWords, count: count)
    }

    private mutating func touch(_ place: Int, session: SessionID, at t: Int64) -> Lease {
        leases[place].lastActivity = max(leases[place].lastActivity, t)
        return makeLease(place, session: session)
    }

    /// Ends leases due by `t`; builds the ended leases only for a caller that asked for them.
    @discardableResult
    private mutating func expire(upTo t: Int64, collecting: Bool) -> [Lease] {
        var ended: [Lease] = []
        while let top = deadlines.popDue(upTo: t) {
            prefetchComingExpiries()  // the one after this: another may be due in this call
            guard let place = current(top), leases[place].deadlineEntry == top.time else { continue }
            let deadline = deadline(place)
            if deadline != top.time {
                // Touched since it was scheduled: its entry moves to the real deadline, where it
                // ends in (deadline, tie) order like every other lease.
                leases[place].deadlineEntry = deadline
                deadlines.insert(TimedEntry(time: deadline, tie: top.tie, place: top.place, generation: top.generation))
                continue
            }
            if collecting { ended.append(makeLease(place)) }
            end(place, at: top.time)
        }
        prefetchComingExpiries()  // the one the next call ends
        return ended
    }

    /// Loads what coming expiries read: the records of the deadlines the wheel just reached (the
    /// next second of them), and for the lease due next (its record loaded that way) its number's
    /// slot and its table bucket.
    private mutating func prefetchComingExpiries() {
        if deadlines.turns != prefetchedTurn {
            prefetchedTurn = deadlines.turns
            for entry in deadlines.reached { leases.prefetch(Int(entry.place), bytes: 64) }
        }
        if let next = deadlines.nextReached {
            let place = Int(next.place)
            slots.prefetch(leases[place].slot)
            table.prefetch(hash: UInt64(leases[place].keyHash))
        }
    }

    /// The place an entry names, if the lease it was made for still holds it.
    private func current(_ entry: TimedEntry) -> Int? {
        let place = Int(entry.place)
        return leases[place].occupied && leases[place].generation == entry.generation ? place : nil
    }

    @discardableResult
    private mutating func occupy(_ key: InlineID, _ session: SessionID, _ lease: LiveLease, visitor: VisitorID) -> Int {
        var lease = lease
        lease.keyHash = UInt32(truncatingIfNeeded: key.hash)
        lease.keyWords = key.words
        lease.keyCount = key.count
        let place: Int
        if let reused = vacant.popLast() {
            place = reused
            lease.generation = leases[place].generation
            leases[place] = lease
        } else {
            place = leases.count
            leases.append(lease)
        }
        if !key.isInline { outOfLine[place] = session }
        if lease.visitorCount == InlineID.notInline { outOfLineVisitors[place] = visitor }
        table.insert(hash: key.hash, index: place)
        return place
    }

    private mutating func vacate(_ place: Int) {
        table.remove(hash: UInt64(leases[place].keyHash), index: place)
        if leases[place].keyCount == InlineID.notInline { outOfLine[place] = nil }
        if leases[place].visitorCount == InlineID.notInline { outOfLineVisitors[place] = nil }
        leases[place].occupied = false
        leases[place].generation &+= 1
        vacant.append(place)
    }

    /// An entry for the lease at `place`; `tie` is `tieBreak` of its session (not kept in the record:
    /// an entry carries it, and only a new lease or a rebuild makes one from scratch).
    private func entry(_ place: Int, at time: Int64, tie: UInt64) -> TimedEntry {
        TimedEntry(time: time, tie: tie, place: Int32(place), generation: leases[place].generation)
    }

    private func isAvailable(_ slot: Int, for visitor: InlineID, at t: Int64) -> Bool {
        guard !slots[slot].retired, slots[slot].holders == 0 else { return false }
        // The cooldown protects other visitors from a late caller; the same visitor may have it back.
        return slots[slot].releasedAt + limits.cooldown <= t || slots[slot].lastVisitor == Self.visitorHash(visitor)
    }

    private mutating func popLeastRecentlyReleased(at t: Int64) -> Int? {
        while let top = free.min {
            let slot = Int(top.slot)
            guard !slots[slot].retired, slots[slot].holders == 0, slots[slot].releasedAt == top.releasedAt else {
                free.removeMin()
                continue
            }
            // Release times order the queue and the cooldown is the same for all: if the top is still
            // cooling, every other free number is too.
            guard top.releasedAt + limits.cooldown <= t else { return nil }
            free.removeMin()
            if let next = free.min { slots.prefetch(Int(next.slot)) }  // the next allocation's number
            return slot
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
                leases[place].idleEntry = leases[place].lastActivity
                _ = idleOrder.replaceMin(with: entry(place, at: leases[place].idleEntry, tie: top.tie))
                continue
            }
            return (session(at: place), leases[place].slot)
        }
        return nil
    }

    private mutating func start(
        _ key: InlineID, _ session: SessionID, visitor: VisitorID, _ visitorID: InlineID, slot: Int, at t: Int64, shared: Bool
    ) -> Lease {
        let place = occupy(key, session, LiveLease(
            slot: slot, number: slots[slot].number, visitor: visitorID, start: t, lastActivity: t, shared: shared,
            previousRelease: slots[slot].releasedAt, previousVisitor: slots[slot].lastVisitor,
            deadlineEntry: min(t + limits.idleTTL, t + limits.maxAge), idleEntry: t), visitor: visitor)
        slots[slot].holders += 1
        slots[slot].lastVisitor = leases[place].visitorHash
        let tie = Self.tieBreak(session)
        deadlines.insert(entry(place, at: leases[place].deadlineEntry, tie: tie))
        if limits.sharing { idleOrder.insert(entry(place, at: leases[place].idleEntry, tie: tie)) }
        compactIfBloated()
        return makeLease(place, session: session, visitor: visitor)
    }

    private mutating func end(_ place: Int, at time: Int64) {
        let slot = leases[place].slot
        slots[slot].holders -= 1
        // The visitor whose lease ended last may have the number back within the cooldown: a late
        // call to it would be matched to that visitor anyway (SPEC §Matching 3), and the store
        // recovers the same visitor after a restart.
        if time >= slots[slot].releasedAt { slots[slot].lastVisitor = leases[place].visitorHash }
        slots[slot].releasedAt = max(slots[slot].releasedAt, time)
        if slots[slot].holders == 0 {
            free.insert(FreeQueue.Entry(releasedAt: slots[slot].releasedAt, slot: Int32(slot)))
        }
        vacate(place)
    }

    /// `session` and `visitor` are the caller's own copies of the ids when it has them: no need to
    /// rebuild the stored ones.
    private func makeLease(_ place: Int, session: SessionID? = nil, visitor: VisitorID? = nil) -> Lease {
        Lease(
            poolID: poolID, number: PhoneNumber(packed: leases[place].number), sessionID: session ?? self.session(at: place),
            visitorID: visitor ?? self.visitor(at: place), startedAt: Timestamp(microsecondsSinceEpoch: leases[place].start),
            lastActivityAt: Timestamp(microsecondsSinceEpoch: leases[place].lastActivity),
            expiresAt: Timestamp(microsecondsSinceEpoch: deadline(place)), shared: leases[place].shared)
    }

    /// Stale heap entries (released, undone, retired leases) are dropped when they reach the top;
    /// rebuild when they outnumber the real ones anyway.
    private mutating func compactIfBloated() {
        let limit = 2 * (slots.count + table.count) + 64
        if deadlines.count > limit || idleOrder.count > limit || free.count > limit { rebuildHeaps() }
    }

    private mutating func rebuildHeaps() {
        let slots = self.slots
        free = FreeQueue(slots.indices.filter { slots[$0].holders == 0 && !slots[$0].retired }
            .map { FreeQueue.Entry(releasedAt: slots[$0].releasedAt, slot: Int32($0)) })
        for place in leases.indices where leases[place].occupied {
            leases[place].deadlineEntry = deadline(place)
            leases[place].idleEntry = leases[place].lastActivity
        }
        let occupied = leases.indices.filter { leases[$0].occupied }
        let ties = occupied.map { Self.tieBreak(session(at: $0)) }
        deadlines = DeadlineQueue(horizon: limits.horizon, continuing: deadlines)
        for (place, tie) in zip(occupied, ties) { deadlines.insert(entry(place, at: leases[place].deadlineEntry, tie: tie)) }
        idleOrder = limits.sharing ? Heap(zip(occupied, ties).map { entry($0, at: leases[$0].idleEntry, tie: $1) }) : Heap()
    }
}
