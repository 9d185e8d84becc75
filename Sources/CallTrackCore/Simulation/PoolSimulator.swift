import HeapModule

/// `calltrackd simulate`: the real allocator (`LeaseBook`) and the real matcher (`CallMatcher`) driven by
/// synthetic traffic whose truth is known, on a virtual clock (a simulated day takes well under a second).
/// For a pool size it measures what a company buying numbers needs to know: how many calls were credited to
/// the visit that really made them, how often the pool was full, how often a call found two sessions on its
/// number, and how the measured exhaustion compares with Erlang B's prediction.
public struct PoolSimulator: Sendable {
    public var profile: TrafficProfile
    public var policy: PoolPolicy
    public var days: Int
    public var seed: UInt64

    public init(profile: TrafficProfile, policy: PoolPolicy = PoolPolicy(), days: Int = 7, seed: UInt64 = 1) {
        self.profile = profile
        self.policy = policy
        self.days = days
        self.seed = seed
    }

    /// One run at one pool size. `progress` is told the share of simulated time done (0…1), about a hundred times.
    public func run(poolSize: Int, progress: ((Double) -> Void)? = nil) -> SimulationOutcome {
        var run = SimulationRun(simulator: self, poolSize: poolSize)
        return run.play(progress: progress)
    }

    /// The pool size Erlang B recommends for the busiest hour of this traffic, from the mean holding time
    /// `outcome` measured (any pool size measures it: a lease lasts as long as its visit, whatever the pool).
    public func recommendedSize(holding outcome: SimulationOutcome, target: Double) -> Int {
        ErlangB.servers(load: outcome.offeredLoad, target: target)
    }
}

/// What one run measured, with the ground truth it was measured against.
public struct SimulationOutcome: Sendable, Hashable, Codable {
    public var poolSize: Int
    public var days: Int
    /// Human visits (sessions) and bot visits.
    public var sessions = 0
    public var botSessions = 0
    /// Human visits that found every number held (the site's default number was shown).
    public var exhausted = 0
    /// The same, in the busiest hour of the day only (what Erlang B predicts).
    public var busiestHourSessions = 0
    public var busiestHourExhausted = 0
    /// Calls (first calls and repeat calls weeks later).
    public var calls = 0
    public var repeatCalls = 0
    /// Calls to a pool number (the others dialled the default number their visit was shown).
    public var callsOnPoolNumbers = 0
    /// Calls credited to the visit that made them; to another visit; to none.
    public var correct = 0
    public var wrong = 0
    public var unmatched = 0
    /// Calls the matcher found two or more sessions for (`shared`: what the daemon reports), and calls whose
    /// number two or more visits truly held when it rang (the truth the simulator knows), and calls after the
    /// lease ended (`late`).
    public var shared = 0
    public var trulyShared = 0
    public var late = 0
    /// Mean time a number stayed out of the free list per lease: the lease, then its cooldown.
    public var meanHoldingSeconds = 0.0
    /// Human arrivals per hour in the busiest hour × mean holding, in erlangs.
    public var offeredLoad = 0.0
    /// Erlang B's exhaustion probability for `offeredLoad` and `poolSize`.
    public var predictedExhaustion = 0.0

    public var accuracy: Double { calls == 0 ? 1 : Double(correct) / Double(calls) }
    public var misattribution: Double { 1 - accuracy }
    public var exhaustionRate: Double { sessions == 0 ? 0 : Double(exhausted) / Double(sessions) }
    public var busiestHourExhaustionRate: Double {
        busiestHourSessions == 0 ? 0 : Double(busiestHourExhausted) / Double(busiestHourSessions)
    }
    public var collisionRate: Double { callsOnPoolNumbers == 0 ? 0 : Double(shared) / Double(callsOnPoolNumbers) }
    public var trueCollisionRate: Double { callsOnPoolNumbers == 0 ? 0 : Double(trulyShared) / Double(callsOnPoolNumbers) }
    public var lateRate: Double { callsOnPoolNumbers == 0 ? 0 : Double(late) / Double(callsOnPoolNumbers) }
}

/// One run's state: the lease book, the events still to come, every visit, and the lease history the matcher reads.
struct SimulationRun {
    let simulator: PoolSimulator
    let site: Site
    let book: LeaseBook
    var random: SeededRandom
    var events = Heap<SimulationEvent>()
    var visits: [SimulatedVisit] = []
    /// Leases per number, as the store keeps them (touches update the newest of a session); old ones pruned.
    var history: [PhoneNumber: [Lease]] = [:]
    /// Caller phone → the visitor it was bound to by a matched call (as the daemon binds it).
    var boundPhones: [PhoneNumber: (visitor: VisitorID, session: SessionID)] = [:]
    var outcome: SimulationOutcome
    var holdingTotal = 0.0, holdingCount = 0
    var sequence = 0
    /// Midnight UTC: hours of the simulated day are hours of the profile.
    let start = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)
    /// Hours since `start` → whether it is the busiest hour (of the day, or of the replayed hours).
    let busiestHours: Set<Int>

    static let browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    static let crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

    init(simulator: PoolSimulator, poolSize: Int) {
        self.simulator = simulator
        let numbers = (0..<poolSize).map { try! PhoneNumber.e164("+7499\(String(1_000_000 + $0))") }
        site = Site(id: "sim", defaultNumber: try! PhoneNumber.e164("+74990000000"),
                    pools: [Pool(id: "sim", numbers: numbers, policy: simulator.policy)])
        let unlimited = FloodGuard.Limit(burst: 1e12, perMinute: 1e12)
        book = LeaseBook(sites: [site], flood: FloodGuard(perIP: unlimited, perVisitor: unlimited))
        random = SeededRandom(seed: simulator.seed)
        outcome = SimulationOutcome(poolSize: poolSize, days: simulator.days)
        let profile = simulator.profile
        busiestHours = Set((0..<(simulator.days * 24)).filter(profile.isBusiestHour))
    }

    mutating func play(progress: ((Double) -> Void)?) -> SimulationOutcome {
        let profile = simulator.profile
        let total = profile.hourlyWeights.reduce(0, +)
        let end = start + .seconds(Int64(simulator.days) * 86_400)
        var reported = -1
        for day in 0..<simulator.days {
            // The day's arrivals: a Poisson count per hour, each at a uniform instant in it.
            for hour in 0..<24 {
                let arrivals: Int
                if let replayed = profile.replayedHours {
                    arrivals = day * 24 + hour < replayed.count ? replayed[day * 24 + hour] : 0
                } else {
                    arrivals = random.poisson(mean: total > 0 ? profile.visitsPerDay * profile.hourlyWeights[hour % profile.hourlyWeights.count] / total : 0)
                }
                let hourStart = start + .seconds(Int64(day * 86_400 + hour * 3_600))
                for _ in 0..<arrivals {
                    schedule(.visit(arrive()), at: hourStart + .microseconds(Int64.random(in: 0..<3_600_000_000, using: &random)))
                }
            }
            // Everything up to the end of this day (repeat calls weeks later wait in the queue).
            let dayEnd = start + .seconds(Int64((day + 1) * 86_400))
            while let next = events.min, next.at < dayEnd {
                handle(events.removeMin())
            }
            let done = Int(Double(day + 1) / Double(simulator.days) * 100)
            if done != reported { reported = done; progress?(Double(day + 1) / Double(simulator.days)) }
        }
        // Repeat calls that fall after the last day are not counted: their visits' numbers are long reused.
        while let next = events.min, next.at < end { handle(events.removeMin()) }
        for lease in book.expire(upTo: end + .seconds(86_400)) { noteHolding(lease) }
        outcome.meanHoldingSeconds = holdingCount == 0 ? 0 : holdingTotal / Double(holdingCount)
        outcome.offeredLoad = profile.busiestHourArrivals * outcome.meanHoldingSeconds / 3_600
        outcome.predictedExhaustion = ErlangB.blocking(load: outcome.offeredLoad, servers: outcome.poolSize)
        return outcome
    }

    /// A new visit, with what its visitor will do decided now (its truth).
    mutating func arrive() -> Int {
        let profile = simulator.profile
        let index = visits.count
        let isBot = random.chance(profile.botShare)
        let length = Duration.seconds(random.logNormal(median: profile.sessionMedian.secondsDouble, spread: profile.sessionSpread))
        let callDelay: Duration? = !isBot && random.chance(profile.callShare)
            ? .seconds(random.logNormal(median: profile.callDelayMedian.secondsDouble, spread: profile.callDelaySpread)) : nil
        let repeatAfter: Duration? = callDelay != nil && random.chance(profile.repeatShare)
            ? .seconds(Int64(random.pick(profile.repeatAfterDays)) * 86_400 + Int64.random(in: 0..<86_400, using: &random)) : nil
        visits.append(SimulatedVisit(
            session: "s_sim\(index)", visitor: "v_sim\(index)", phone: try! PhoneNumber.e164("+7916\(String(1_000_000 + index % 9_000_000))"),
            isBot: isBot, length: length, callDelay: callDelay, repeatAfter: repeatAfter))
        return index
    }

    mutating func schedule(_ kind: SimulationEvent.Kind, at t: Timestamp) {
        sequence += 1
        events.insert(SimulationEvent(at: t, sequence: sequence, kind: kind))
    }

    mutating func handle(_ event: SimulationEvent) {
        for lease in book.expire(upTo: event.at) { noteHolding(lease) }
        switch event.kind {
        case .visit(let index): visit(index, at: event.at)
        case .ping(let index): ping(index, at: event.at)
        case .call(let index): call(index, at: event.at, again: false)
        case .repeatCall(let index): call(index, at: event.at, again: true)
        }
    }

    mutating func visit(_ index: Int, at t: Timestamp) {
        let visit = visits[index]
        let request = AllocationRequest(siteID: site.id, sessionID: visit.session, visitorID: visit.visitor,
                                        userAgent: visit.isBot ? Self.crawler : Self.browser)
        guard let assignment = try? book.assign(request, at: t) else { return }
        visits[index].start = t
        if visit.isBot {
            outcome.botSessions += 1
            return
        }
        outcome.sessions += 1
        let busiest = busiestHours.contains(Int((t - start).secondsDouble / 3_600))
        if busiest { outcome.busiestHourSessions += 1 }
        if assignment.reason == .exhausted {
            outcome.exhausted += 1
            if busiest { outcome.busiestHourExhausted += 1 }
        }
        visits[index].shown = assignment.number
        if let lease = assignment.lease { record(lease) }
        var next = t + simulator.profile.pingInterval
        while next < t + visit.length {
            schedule(.ping(index), at: next)
            next = next + simulator.profile.pingInterval
        }
        if let delay = visit.callDelay { schedule(.call(index), at: t + delay) }
    }

    mutating func ping(_ index: Int, at t: Timestamp) {
        if let lease = (try? book.touch(siteID: site.id, session: visits[index].session, at: t))?.lease { record(lease) }
    }

    /// A call from the visitor to the number their visit showed; judged against the session that truly made it.
    mutating func call(_ index: Int, at t: Timestamp, again: Bool) {
        let visit = visits[index]
        guard let number = visit.shown else { return }
        outcome.calls += 1
        if again { outcome.repeatCalls += 1 }
        if let after = visit.repeatAfter, !again { schedule(.repeatCall(index), at: t + after) }
        guard site.pools[0].numbers.contains(number) else {
            outcome.unmatched += 1  // the default number: the pool was full when they visited
            return
        }
        outcome.callsOnPoolNumbers += 1
        let cooldown = simulator.policy.cooldown
        let leases = (history[number] ?? []).filter { $0.startedAt <= t && $0.end >= t - cooldown }
        // The truth: visits whose page (or lease) held this number when it rang.
        if book.liveLeases(pool: site.pools[0].id).count(where: { $0.number == number && $0.isLive(at: t) }) >= 2 { outcome.trulyShared += 1 }
        let bound = boundPhones[visit.phone]
        let known = bound.map { CallerVisitor(visitorID: $0.visitor, heldNumberBefore: true, onSiteNow: false, latestSession: $0.session) }
        let match = CallMatcher.match(MatchQuery(trackingNumber: number, caller: visit.phone, at: t, leases: leases,
                                                 cooldown: cooldown, callerVisitor: known))
        switch match.kind {
        case .shared: outcome.shared += 1
        case .late: outcome.late += 1
        default: break
        }
        switch match.sessionID {
        case visit.session?: outcome.correct += 1
        case nil: outcome.unmatched += 1
        default: outcome.wrong += 1
        }
        if bound == nil, let session = match.sessionID, let visitor = match.visitorID, match.kind != .unmatched {
            boundPhones[visit.phone] = (visitor, session)
        }
    }

    /// The lease as the store keeps it: a touch updates the session's newest lease on the number.
    mutating func record(_ lease: Lease) {
        var leases = history[lease.number] ?? []
        if let last = leases.lastIndex(where: { $0.sessionID == lease.sessionID && $0.startedAt == lease.startedAt }) {
            leases[last] = lease
        } else {
            // Leases over a day old can no longer match any call (cooldowns are minutes): keep the list short.
            leases.removeAll { $0.end < lease.startedAt - .seconds(86_400) }
            leases.append(lease)
        }
        history[lease.number] = leases
    }

    mutating func noteHolding(_ lease: Lease) {
        holdingTotal += (lease.end - lease.startedAt).secondsDouble + simulator.policy.cooldown.secondsDouble
        holdingCount += 1
    }
}

/// One visit's truth and what it was shown.
struct SimulatedVisit {
    var session: SessionID
    var visitor: VisitorID
    var phone: PhoneNumber
    var isBot: Bool
    var length: Duration
    var callDelay: Duration?
    var repeatAfter: Duration?
    var start: Timestamp?
    var shown: PhoneNumber?
}

struct SimulationEvent: Comparable {
    enum Kind { case visit(Int), ping(Int), call(Int), repeatCall(Int) }
    var at: Timestamp
    var sequence: Int
    var kind: Kind

    static func < (a: Self, b: Self) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
    static func == (a: Self, b: Self) -> Bool { a.at == b.at && a.sequence == b.sequence }
}
