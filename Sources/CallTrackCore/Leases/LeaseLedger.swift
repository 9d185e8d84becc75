/// Every pool's lease state and the site-level rules of SPEC §Allocation 1–6, as a value: no I/O, no
/// clock of its own. `LeaseBook` is its one owner.
struct LeaseLedger {
    private(set) var sites: [String: Site] = [:]
    private var allocators: [String: PoolAllocator] = [:]
    private var poolOfNumber: [PhoneNumber: String] = [:]
    private var flood: FloodGuard
    private let bots: BotDetector

    init(sites: [Site], bots: BotDetector, flood: FloodGuard) {
        self.bots = bots
        self.flood = flood
        var state = Installed()
        for site in sites { state.install(site) }
        (self.sites, self.allocators, self.poolOfNumber) = (state.sites, state.allocators, state.poolOfNumber)
    }

    mutating func assign(_ request: AllocationRequest, at now: Timestamp) throws(LeaseBook.Failure) -> Assignment {
        guard let site = sites[request.siteID] else { throw .unknownSite(request.siteID) }
        if let touched = touch(site: site, session: request.sessionID, at: now) { return touched }

        if bots.isBot(userAgent: request.userAgent) { return fallback(site, .bot) }
        if request.doNotTrack && site.respectDoNotTrack { return fallback(site, .doNotTrack) }
        guard let pool = site.pools.first(where: { $0.policy.segment.admits(request.source) }) else {
            if let number = site.unsegmentedNumber {
                return Assignment(siteID: site.id, number: number, kind: .static, reason: .segment)
            }
            return fallback(site, site.pools.isEmpty ? .noPool : .segment)
        }
        if case .interaction = pool.policy.leaseOn, !request.interacted { return fallback(site, .interactionRequired) }
        guard flood.admit(ip: request.clientIP, visitor: request.visitorID, at: now) else {
            return fallback(site, .rateLimited)
        }
        guard let outcome = inPlace(pool.id, {
            $0.allocate(session: request.sessionID, visitor: request.visitorID, previousNumber: request.previousNumber, at: now)
        }) else { return fallback(site, .noPool) }  // every pool of a site has its allocator (`install`)
        switch outcome {
        case .leased(let lease, _), .shared(let lease, _), .existing(let lease):
            return Assignment(siteID: site.id, number: lease.number, kind: .pool, lease: lease, poolID: pool.id, outcome: outcome)
        case .exhausted:
            var answer = fallback(site, .exhausted)
            answer.poolID = pool.id
            answer.outcome = outcome
            return answer
        }
    }

    mutating func touch(siteID: String, session: SessionID, at now: Timestamp) throws(LeaseBook.Failure) -> Assignment? {
        guard let site = sites[siteID] else { throw .unknownSite(siteID) }
        return touch(site: site, session: session, at: now)
    }

    mutating func undo(_ assignment: Assignment) {
        guard let poolID = assignment.poolID, let outcome = assignment.outcome else { return }
        inPlace(poolID) { $0.undo(outcome) }
    }

    @discardableResult
    mutating func expire(upTo now: Timestamp) -> [Lease] {
        var ended: [Lease] = []
        var index = allocators.startIndex
        while index != allocators.endIndex {
            ended += allocators.values[index].expire(upTo: now)
            allocators.formIndex(after: &index)
        }
        return ended
    }

    mutating func restore(pool: String, liveLeases: [Lease], lastReleases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)]) {
        inPlace(pool) { $0.restore(liveLeases: liveLeases, lastReleases: lastReleases) }
    }

    func liveLeases(pool: String) -> [Lease] { allocators[pool]?.liveLeases ?? [] }

    mutating func release(visitors: Set<VisitorID>, at now: Timestamp) -> Int {
        var released = 0
        var index = allocators.startIndex
        while index != allocators.endIndex {
            for lease in allocators.values[index].liveLeases where visitors.contains(lease.visitorID) {
                allocators.values[index].release(session: lease.sessionID, at: now)
                released += 1
            }
            allocators.formIndex(after: &index)
        }
        return released
    }

    func pool(of number: PhoneNumber) -> String? { poolOfNumber[number] }

    // MARK: Admin changes

    mutating func upsert(_ site: Site) throws(LeaseBook.Failure) {
        for pool in site.pools {
            for number in pool.numbers {
                if let owner = poolOfNumber[number], owner != pool.id { throw .numberInAnotherPool(number, pool: owner) }
            }
        }
        if let old = sites[site.id] {
            for pool in old.pools where !site.pools.contains(where: { $0.id == pool.id }) {
                for number in pool.numbers {
                    inPlace(pool.id) { $0.retire(number) }
                    // A dropped number may join another pool later.
                    if poolOfNumber[number] == pool.id { poolOfNumber[number] = nil }
                }
            }
        }
        install(site)
    }

    mutating func remove(site id: String) {
        guard let site = sites.removeValue(forKey: id) else { return }
        for pool in site.pools {
            for number in pool.numbers where poolOfNumber[number] == pool.id { poolOfNumber[number] = nil }
            allocators[pool.id] = nil
        }
    }

    mutating func add(_ number: PhoneNumber, toPool poolID: String) throws(LeaseBook.Failure) {
        guard allocators[poolID] != nil, let siteID = siteOfPool(poolID) else { throw .unknownPool(poolID) }
        if let owner = poolOfNumber[number], owner != poolID { throw .numberInAnotherPool(number, pool: owner) }
        inPlace(poolID) { $0.add(number) }
        poolOfNumber[number] = poolID
        editPool(poolID, in: siteID) { if !$0.numbers.contains(number) { $0.numbers.append(number) } }
    }

    mutating func retire(_ number: PhoneNumber, fromPool poolID: String) throws(LeaseBook.Failure) {
        guard allocators[poolID] != nil, let siteID = siteOfPool(poolID) else { throw .unknownPool(poolID) }
        inPlace(poolID) { $0.retire(number) }
        if poolOfNumber[number] == poolID { poolOfNumber[number] = nil }
        editPool(poolID, in: siteID) { $0.numbers.removeAll { $0 == number } }
    }

    mutating func update(policy: PoolPolicy, ofPool poolID: String) throws(LeaseBook.Failure) {
        guard allocators[poolID] != nil, let siteID = siteOfPool(poolID) else { throw .unknownPool(poolID) }
        inPlace(poolID) { $0.update(policy: policy) }
        editPool(poolID, in: siteID) { $0.policy = policy }
    }

    // MARK: Reading for stats

    mutating func snapshot(at now: Timestamp) -> [LeaseBook.PoolSnapshot] {
        expire(upTo: now)
        return sites.values.flatMap { site in
            site.pools.compactMap { pool in
                allocators[pool.id].map {
                    LeaseBook.PoolSnapshot(siteID: site.id, poolID: pool.id, size: $0.size, live: $0.liveLeaseCount, free: $0.freeCount(at: now))
                }
            }
        }.sorted { $0.poolID < $1.poolID }
    }

    // MARK: Internals

    private mutating func install(_ site: Site) {
        var state = Installed(sites: sites, allocators: allocators, poolOfNumber: poolOfNumber)
        state.install(site)
        (sites, allocators, poolOfNumber) = (state.sites, state.allocators, state.poolOfNumber)
    }

    /// Site and pool tables, changed together when a site is installed.
    private struct Installed {
        var sites: [String: Site] = [:]
        var allocators: [String: PoolAllocator] = [:]
        var poolOfNumber: [PhoneNumber: String] = [:]

        mutating func install(_ site: Site) {
        sites[site.id] = site
        for pool in site.pools {
            if allocators[pool.id] == nil {
                allocators[pool.id] = PoolAllocator(poolID: pool.id, numbers: pool.numbers, policy: pool.policy)
            } else {
                // A set: a pool may hold 100,000 numbers, and a quadratic scan would stall every allocation.
                let wanted = Set(pool.numbers)
                for number in allocators[pool.id]!.numbers where !wanted.contains(number) {
                    allocators[pool.id]!.retire(number)
                    if poolOfNumber[number] == pool.id { poolOfNumber[number] = nil }
                }
                for number in pool.numbers { allocators[pool.id]!.add(number) }
                if allocators[pool.id]!.policy != pool.policy { allocators[pool.id]!.update(policy: pool.policy) }
            }
            for number in pool.numbers { poolOfNumber[number] = pool.id }
        }
        }
    }

    private mutating func touch(site: Site, session: SessionID, at now: Timestamp) -> Assignment? {
        for pool in site.pools {
            if let lease = inPlace(pool.id, { $0.touch(session: session, at: now) }) ?? nil {
                return Assignment(siteID: site.id, number: lease.number, kind: .pool, lease: lease, poolID: pool.id, outcome: .existing(lease))
            }
        }
        return nil
    }

    /// Changes a pool's allocator where it lies, as every change of the ledger's allocators does (installing a
    /// site builds its tables in `Installed`). `allocators[id]!.allocate(…)` copied the allocator out of the
    /// dictionary and back on every allocation: a retain and a release of each of its tables. Nil when the pool
    /// has no allocator.
    @discardableResult
    private mutating func inPlace<Result>(_ poolID: String, _ change: (inout PoolAllocator) -> Result) -> Result? {
        guard let index = allocators.index(forKey: poolID) else { return nil }
        return change(&allocators.values[index])
    }

    private func fallback(_ site: Site, _ reason: Assignment.FallbackReason) -> Assignment {
        Assignment(siteID: site.id, number: site.defaultNumber, kind: .fallback, reason: reason)
    }

    private func siteOfPool(_ poolID: String) -> String? {
        sites.values.first { $0.pools.contains { $0.id == poolID } }?.id
    }

    private mutating func editPool(_ poolID: String, in siteID: String, _ change: (inout Pool) -> Void) {
        guard var site = sites[siteID], let index = site.pools.firstIndex(where: { $0.id == poolID }) else { return }
        change(&site.pools[index])
        sites[siteID] = site
    }
}
