import AMI
import CallTrackCore
import Logging
import Metrics
import Store

/// Turns stored calls into leads: matches a call to a visit when it starts ringing, then updates the
/// lead when it is answered and when it ends. Each change is stored with its outbox entry in one
/// transaction, from where each destination's `DestinationDelivery` takes it (PostgreSQL, when configured).
public actor LeadDesk {
    let book: LeaseBook
    let store: any StateStore
    let ledger: any LeadStore
    let settings: LeadRules
    let clock: any WallClock
    let logger: Logger
    /// Decides each new lead's dealer; the same desk FastAGI routes with, so a call it routed keeps its decision.
    let routing: RoutingDesk?
    /// Where callbacks to missed callers are recorded (the lead path adds the rest of each dealer's figures).
    let dealerStatistics: (any DealerHistory)?
    private var dealerCounters: [String: DealerCounters] = [:]
    /// The backend the desk was made under: a dealer's counters are made when its first call comes.
    private let metricsFactory: any MetricsFactory
    private let untracked = Counter(label: "calltrackd_calls_untracked_total")
    private let matches: [MatchKind: Counter] = Dictionary(uniqueKeysWithValues: MatchKind.allCases.map {
        ($0, Counter(label: "calltrackd_calls_matched_total", dimensions: [("kind", $0.rawValue)]))
    })

    public init(
        book: LeaseBook, store: any StateStore, ledger: any LeadStore, settings: LeadRules, clock: any WallClock, logger: Logger,
        routing: RoutingDesk? = nil, dealerStatistics: (any DealerHistory)? = nil
    ) {
        self.routing = routing
        self.dealerStatistics = dealerStatistics
        metricsFactory = MetricsSystem.factory
        self.book = book
        self.store = store
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Brings every stored call's lead up to date: a call stored just before the daemon stopped gets its lead now.
    /// Runs before the store's writer does (at open): a call to a number no site tracks is already stored as it is,
    /// so it is passed over, not stored again. Returns how many leads it brought up to date.
    @discardableResult
    public func catchUp(pageSize: Int = 1_000) async -> Int {
        var caughtUp = 0
        var last: CallRecord?
        while true {
            let page: [CallRecord]
            do { page = try await ledger.callsBehind(after: last, limit: pageSize) } catch {
                logger.warning("cannot check for calls without leads", metadata: ["error": "\(error.description)"])
                break
            }
            for call in page where call.trackingNumber.flatMap(owner(of:)) != nil {
                await handle(call)
                caughtUp += 1
            }
            guard page.count == pageSize else { break }
            last = page.last
        }
        if caughtUp > 0 { logger.notice("leads caught up after a restart", metadata: ["calls": "\(caughtUp)"]) }
        await repairRepeats()
        return caughtUp
    }

    /// Decides again the repeats of leads that turned junk before such repeats were decided again, so every
    /// stored `repeat_of` names a lead. A store that refuses leaves them for the next start.
    func repairRepeats() async {
        do {
            var repaired = 0
            for junked in try await ledger.junkWithRepeats(limit: 10_000) {
                let facts = try await ledger.repeatFacts(of: junked, rules: settings)
                let (redecided, unreadable) = LeadDecision.redecide(facts, rules: settings, at: clock.now())
                logUnreadable(unreadable)
                try await ledger.record(redecided: redecided, at: clock.now())
                repaired += redecided.count
            }
            if repaired > 0 { logger.notice("repeats of junk leads decided again", metadata: ["leads": "\(repaired)"]) }
        } catch {
            logger.warning("cannot decide the repeats of junk leads again", metadata: ["error": "\(error.description)"])
        }
    }

    /// Handles one call change; retries while the store refuses, so no lead is lost to a busy disk.
    /// The call's hangup gives back the dealer line its routing decision held.
    public func handle(_ call: CallRecord) async {
        var delay = Duration.milliseconds(50)
        while true {
            do {
                try await process(call)
                if call.endedAt != nil { routing?.release(call: call.id) }
                return
            } catch {
                logger.warning("lead not stored yet, retrying", metadata: ["call": "\(call.id)", "error": "\(error.description)"])
                try? await Task.sleep(for: delay)
                if Task.isCancelled { return }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// One read, one pure decision (`LeadDecision`), one write, in one transaction on the store's writer thread
    /// (`LeadLedger.apply`): the call, and its lead when the number is tracked, with the binding and the repeats
    /// decided again.
    func process(_ call: CallRecord) async throws(StoreUnavailable) {
        let answering = call.answeredBy.flatMap { routing?.book.dealer(answeredBy: $0) }
        let applied = try await ledger.apply(call, opening: opening(for: call), rules: settings, answeringDealer: answering, at: clock.now())
        let facts = applied.facts
        switch applied.decision {
        case .handled:
            return
        case .callOnly:
            untracked.increment()
            logger.notice("call to a number no site tracks: stored, no lead", metadata: ["call": "\(call.id)", "dialled": "\(call.dialled)"])
        case .store(let change):
            let lead = change.lead
            count(change.tally)
            logUnreadable(change.unreadableRepeats)
            for decision in change.redecided {
                logger.info("repeat decided again: the lead it repeated is junk", metadata: [
                    "call": "\(decision.lead.callID)", "junk_lead": "\(call.id)", "repeat_of": "\(decision.lead.repeatOf ?? "-")",
                    "is_lead": "\(decision.lead.isLead)",
                ])
            }
            if change.opened {
                matches[lead.match.kind]?.increment()
                if facts.stored == nil {
                    logger.info("lead opened", metadata: [
                        "call": "\(call.id)", "match": "\(lead.match.kind.rawValue)", "session": "\(lead.match.sessionID ?? "-")",
                        "candidates": "\(lead.match.candidateCount)", "is_lead": "\(lead.isLead)",
                    ])
                }
            }
        }
    }

    /// A call a device placed to an outside number: when the device is a dealer's target, it is that dealer calling
    /// back the callers it missed. Retries while the store refuses, like `handle`.
    public func callback(_ call: OutboundCall) async {
        guard let dealer = routing?.book.dealer(answeredBy: call.device), let dealerStatistics else { return }
        var delay = Duration.milliseconds(50)
        while !Task.isCancelled {
            do {
                let answered = try await dealerStatistics.callback(dealer: dealer, to: call.to, at: call.at)
                counters(dealer).callbacks.increment(by: answered)
                logger.info("dealer called back", metadata: ["dealer": "\(dealer)", "missed_calls": "\(answered)"])
                return
            } catch {
                logger.warning("callback not stored yet, retrying", metadata: ["dealer": "\(dealer)", "error": "\(error.description)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    private func count(_ tally: DealerTally) {
        for hour in tally.hours {
            let counters = counters(hour.dealer)
            counters.offered.increment(by: hour.offered)
            counters.answered.increment(by: hour.answered)
            counters.missed.increment(by: hour.missed)
            counters.abandoned.increment(by: hour.abandoned)
            counters.busy.increment(by: hour.busy)
            counters.talkSeconds.increment(by: hour.talkSeconds)
            counters.leads.increment(by: hour.leads)
            counters.junk.increment(by: hour.junk)
        }
    }

    private func counters(_ dealer: String) -> DealerCounters {
        if let known = dealerCounters[dealer] { return known }
        let made = DealerCounters(dealer: dealer, factory: metricsFactory)
        dealerCounters[dealer] = made
        return made
    }

    private func logUnreadable(_ repeats: [String]) {
        for id in repeats {
            logger.warning("repeat of a junk lead not decided again: unreadable stored lead", metadata: ["call": "\(id)"])
        }
    }

    /// What opening a lead for `call` needs from the configuration: the number's site, static entry, default
    /// source and cooldown, and how its dealer is decided; nil for a number no site tracks.
    ///
    /// A site some routing dealer serves gets the routing decision at call start (the one FastAGI made for this
    /// call, if it did); a site none serves keeps its fixed dealer (`site.<id>.dealer`), or none.
    func opening(for call: CallRecord) -> LeadOpening? {
        guard let number = call.trackingNumber, let owner = owner(of: number) else { return nil }
        let site = owner.site
        var facts = LeadFacts(
            siteID: site.id, staticNumber: owner.staticNumber, defaultSource: site.unmatchedSource(pool: owner.pool),
            cooldown: owner.pool?.policy.cooldown ?? PoolPolicy().cooldown)
        var route: (@Sendable (DealerID?) -> RoutingDecision)?
        if let routing, routing.book.hasDealers(for: site.id) {
            let (id, caller, at) = (call.id, call.caller, call.startedAt)
            route = { sticky in
                routing.decision(for: RoutingRequest(site: site.id, caller: caller, at: at, stickyDealer: sticky), call: id)
            }
        } else if let dealer = site.dealer {
            facts.dealerID = dealer
            facts.dealerRule = .site
            facts.dealerReason = "the site's dealer (site.\(site.id).dealer); no routing dealer serves site \(site.id)"
        }
        return LeadOpening(number: number, facts: facts, pooled: owner.pool != nil, route: route)
    }

    struct NumberOwner {
        var site: Site
        var pool: Pool?
        var staticNumber: StaticNumber?
    }

    /// The site (and pool or static entry) a number belongs to; a site's own default number counts too.
    func owner(of number: PhoneNumber) -> NumberOwner? {
        for site in book.allSites {
            if let pool = site.pools.first(where: { $0.numbers.contains(number) }) { return NumberOwner(site: site, pool: pool) }
            if let item = site.staticNumbers.first(where: { $0.number == number }) { return NumberOwner(site: site, staticNumber: item) }
            if site.defaultNumber == number || site.pageNumbers.contains(number) || site.unsegmentedNumber == number {
                return NumberOwner(site: site)
            }
        }
        return nil
    }
}

/// Prometheus counters of one dealer (label `dealer`): calls by outcome, talk time, leads, junk and callbacks.
struct DealerCounters {
    let offered, answered, missed, abandoned, busy: Counter
    let talkSeconds, leads, junk, callbacks: Counter

    init(dealer: String, factory: any MetricsFactory) {
        func calls(_ outcome: String) -> Counter {
            Counter(label: "calltrackd_dealer_calls_total", dimensions: [("dealer", dealer), ("outcome", outcome)], factory: factory)
        }
        (offered, answered, missed, abandoned, busy) = (calls("offered"), calls("answered"), calls("missed"), calls("abandoned"), calls("busy"))
        talkSeconds = Counter(label: "calltrackd_dealer_talk_seconds_total", dimensions: [("dealer", dealer)], factory: factory)
        leads = Counter(label: "calltrackd_dealer_leads_total", dimensions: [("dealer", dealer)], factory: factory)
        junk = Counter(label: "calltrackd_dealer_junk_total", dimensions: [("dealer", dealer)], factory: factory)
        callbacks = Counter(label: "calltrackd_dealer_callbacks_total", dimensions: [("dealer", dealer)], factory: factory)
    }
}
