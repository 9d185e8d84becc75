import CallTrackCore

/// Checks SPEC §Allocation and §Keepalive from the outside: it sees only what the allocator
/// answers and which leases it reports live, keeps its own record of when each number was
/// last released and by whom, and judges every answer against the rules.
///
/// It never looks at the allocator's internals and shares no code with it, so a bug in the
/// heaps cannot hide behind the same bug here.
struct AllocatorObserver {
    var live: [SessionID: Lease] = [:]
    var lastEnd: [PhoneNumber: Timestamp] = [:]
    var lastEndVisitor: [PhoneNumber: VisitorID] = [:]
    /// Start and last activity of each live session, from the allocator's answers.
    var activity: [SessionID: (start: Timestamp, last: Timestamp)] = [:]

    /// Leases seen ending by expiry, which the allocator itself may not have expired yet.
    private var endsSeen: Set<Key> = []

    private struct Key: Hashable {
        var session: SessionID
        var start: Timestamp
        init(_ lease: Lease) { (session, start) = (lease.sessionID, lease.startedAt) }
    }

    private mutating func ended(_ lease: Lease, at time: Timestamp) {
        live[lease.sessionID] = nil
        activity[lease.sessionID] = nil
        if time >= lastEnd[lease.number] ?? .epoch { lastEndVisitor[lease.number] = lease.visitorID }
        lastEnd[lease.number] = max(lastEnd[lease.number] ?? .epoch, time)
    }

    private func expectedEnd(_ session: SessionID, _ policy: PoolPolicy) -> Timestamp? {
        activity[session].map { min($0.last + policy.idleTTL, $0.start + policy.maxAge) }
    }

    /// Looks at the allocator at `now` (on a copy, so the look changes nothing). `released` and
    /// `undone` name a session whose lease the last operation ended on purpose.
    mutating func observe(_ allocator: PoolAllocator, at now: Timestamp, released: SessionID? = nil, undone: SessionID? = nil) -> String? {
        var probe = allocator
        let policy = probe.policy
        let expired = probe.expire(upTo: now).sorted { ($0.expiresAt, $0.sessionID) < ($1.expiresAt, $1.sessionID) }
        let current = Dictionary(probe.liveLeases.map { ($0.sessionID, $0) }, uniquingKeysWith: { a, _ in a })
        if current.count != probe.liveLeaseCount { return "a session holds two live leases" }

        for lease in expired {
            // The allocator expires lazily: a lease already seen ending stays in it until its next expiry.
            if endsSeen.contains(Key(lease)) { continue }
            guard live[lease.sessionID]?.startedAt == lease.startedAt else { return "lease of \(lease.sessionID) ended without ever being live" }
            guard let due = expectedEnd(lease.sessionID, policy), lease.expiresAt == due else {
                return "lease of \(lease.sessionID) ended at \(lease.expiresAt), not at min(last activity + idle TTL, start + max age)"
            }
            guard lease.expiresAt <= now else { return "lease of \(lease.sessionID) ended before its deadline" }
            // Unique: a session's next lease starts after this one expired.
            endsSeen.insert(Key(lease))
            ended(lease, at: lease.expiresAt)
        }
        for (session, lease) in live where current[session] == nil {
            if session == released {
                ended(lease, at: now)
            } else if session == undone {
                live[session] = nil
                activity[session] = nil
            } else {
                return "lease of \(session) on \(lease.number) vanished before its deadline \(lease.expiresAt)"
            }
        }
        for (session, lease) in current {
            guard let act = activity[session] else { return "lease of \(session) appeared from nowhere" }
            guard lease.startedAt == act.start, lease.lastActivityAt == act.last else {
                return "lease of \(session) reports start \(lease.startedAt) / activity \(lease.lastActivityAt), expected \(act.start) / \(act.last)"
            }
            guard lease.expiresAt == expectedEnd(session, policy), lease.expiresAt > now else {
                return "live lease of \(session) expires at \(lease.expiresAt), expected \(expectedEnd(session, policy)!) after now \(now)"
            }
        }
        for (number, holders) in Dictionary(grouping: current.values, by: \.number) where holders.count > 1 {
            if holders.count { !$0.shared } > 1 {
                return "\(number) is live for \(holders.map(\.sessionID).sorted()) and more than one lease is not shared"
            }
        }
        live = current
        return nil
    }

    /// Judges one allocation answer against the state seen just before it (at the same `now`).
    mutating func check(
        _ outcome: PoolAllocator.Outcome, session: SessionID, visitor: VisitorID, previous: PhoneNumber?,
        pool: [PhoneNumber], policy: PoolPolicy, at now: Timestamp
    ) -> String? {
        let held = Set(live.values.map(\.number))
        func cool(_ n: PhoneNumber) -> Bool { (lastEnd[n] ?? .epoch) + policy.cooldown <= now }
        let free = pool.filter { !held.contains($0) && cool($0) }
        let stickyFree = previous.map { p in pool.contains(p) && !held.contains(p) && (cool(p) || lastEndVisitor[p] == visitor) } ?? false

        if case .existing(let lease) = outcome {
            guard let mine = live[session], mine.number == lease.number else { return "touched a lease \(session) did not hold" }
            activity[session]?.last = now
            return nil
        }
        if let mine = live[session] { return "\(session) holds \(mine.number) live but was not given it back (rule 1)" }

        switch outcome {
        case .existing: return nil
        case .leased(let lease, let sticky):
            let n = lease.number
            if held.contains(n) { return "\(n) leased to \(session) while live for another session" }
            if !pool.contains(n) { return "\(n) leased but it is not in the pool (retired?)" }
            if !cool(n) && lastEndVisitor[n] != visitor {
                return "\(n) leased to \(visitor) within the cooldown after \(lastEndVisitor[n] ?? "?") released it at \(lastEnd[n]!)"
            }
            if stickyFree {
                if n != previous || !sticky { return "returning \(visitor) did not get its free previous number \(previous!) (rule 2)" }
            } else {
                if sticky { return "answer says sticky but the previous number was not free" }
                let oldest = free.map { lastEnd[$0] ?? .epoch }.min()
                if lastEnd[n] ?? .epoch != oldest { return "\(n) released at \(lastEnd[n] ?? .epoch) is not the least recently released free number (\(oldest.map(\.description) ?? "none")) (rule 3)" }
            }
        case .shared(let lease, let holder):
            if policy.onExhaustion != .share { return "shared under the fallback policy" }
            if !free.isEmpty || stickyFree { return "shared \(lease.number) while \(free.first ?? previous!) was free (rule 4)" }
            guard let theirs = live[holder], theirs.number == lease.number else { return "shared with \(holder), which does not hold \(lease.number)" }
            let idlest = live.values.filter { pool.contains($0.number) }.map(\.lastActivityAt).min()
            if theirs.lastActivityAt != idlest { return "shared the lease of \(holder), not the one idle longest" }
        case .exhausted:
            if !free.isEmpty || stickyFree { return "exhausted while \(free.first ?? previous!) was free" }
            if policy.onExhaustion == .share, live.values.contains(where: { pool.contains($0.number) }) {
                return "exhausted under the share policy with live leases to share"
            }
        }
        activity[session] = (now, now)
        return nil
    }

    mutating func touched(_ lease: Lease?, session: SessionID, at now: Timestamp) -> String? {
        guard let lease else { return live[session] == nil ? nil : "touch of live \(session) found nothing" }
        guard live[session]?.number == lease.number else { return "touch of \(session) answered a lease it does not hold" }
        activity[session]?.last = now
        return nil
    }
}
