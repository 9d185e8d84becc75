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
    let ledger: LeadLedger
    let settings: LeadRules
    let clock: any WallClock
    let logger: Logger
    private let untracked = Counter(label: "calltrackd_calls_untracked_total")
    private let matches: [MatchKind: Counter] = Dictionary(uniqueKeysWithValues: MatchKind.allCases.map {
        ($0, Counter(label: "calltrackd_calls_matched_total", dimensions: [("kind", $0.rawValue)]))
    })

    public init(book: LeaseBook, store: any StateStore, ledger: LeadLedger, settings: LeadRules, clock: any WallClock, logger: Logger) {
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
            for junked in try await ledger.junkWithRepeats() {
                let redecided = try await redecideRepeats(of: junked)
                try await ledger.record(redecided: redecided, at: clock.now())
                repaired += redecided.count
            }
            if repaired > 0 { logger.notice("repeats of junk leads decided again", metadata: ["leads": "\(repaired)"]) }
        } catch {
            logger.warning("cannot decide the repeats of junk leads again", metadata: ["error": "\(error.description)"])
        }
    }

    /// Handles one call change; retries while the store refuses, so no lead is lost to a busy disk.
    public func handle(_ call: CallRecord) async {
        var delay = Duration.milliseconds(50)
        while true {
            do {
                try await process(call)
                return
            } catch {
                logger.warning("lead not stored yet, retrying", metadata: ["call": "\(call.id)", "error": "\(error.description)"])
                try? await Task.sleep(for: delay)
                if Task.isCancelled { return }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Stores the call, and its lead when the number is tracked, in one transaction.
    func process(_ call: CallRecord) async throws(StoreUnavailable) {
        let stored = try await ledger.lead(call.id)
        if let stored, stored.callRevision >= call.revision { return }
        var lead: Lead
        var matchedVisitor: VisitorID?
        let previous = stored?.lead
        if let previous {
            lead = previous
        } else if let opened = try await open(call) {
            (lead, matchedVisitor) = opened
        } else {
            try await store.apply([.call(call)])
            return
        }
        lead.update(with: call, rules: settings, at: clock.now())
        // A lead that turned junk takes its repeats with it: they are decided again, in the same transaction.
        let redecided: [LeadLedger.Redecided] =
            if previous?.isLead == true && !lead.isLead { try await redecideRepeats(of: call.id) } else { [] }
        let binding: (phone: PhoneNumber, visitor: VisitorID)? =
            if let caller = call.caller, let visitor = matchedVisitor, lead.match.kind != .unmatched { (caller, visitor) } else { nil }
        try await ledger.record(lead, callRevision: call.revision, call: call, binding: stored == nil ? binding : nil,
                                redecided: redecided, at: clock.now())
        for decision in redecided {
            logger.info("repeat decided again: the lead it repeated is junk", metadata: [
                "call": "\(decision.lead.callID)", "junk_lead": "\(call.id)", "repeat_of": "\(decision.lead.repeatOf ?? "-")",
                "is_lead": "\(decision.lead.isLead)",
            ])
        }
        if stored == nil {
            logger.info("lead opened", metadata: [
                "call": "\(call.id)", "match": "\(lead.match.kind.rawValue)", "session": "\(lead.match.sessionID ?? "-")",
                "candidates": "\(lead.match.candidateCount)", "is_lead": "\(lead.isLead)",
            ])
        }
    }

    /// Matches a call at its start and opens its lead (`Lead.open`) from what the store knows; nil for a number
    /// no site tracks. A stored lead whose row cannot be read (an older daemon's unreadable payload) is opened again.
    func open(_ call: CallRecord) async throws(StoreUnavailable) -> (Lead, matchedVisitor: VisitorID?)? {
        guard let number = call.trackingNumber, let owner = owner(of: number) else {
            untracked.increment()
            logger.notice("call to a number no site tracks: stored, no lead", metadata: ["call": "\(call.id)", "dialled": "\(call.dialled)"])
            return nil
        }
        let t = call.startedAt
        let cooldown = owner.pool?.policy.cooldown ?? PoolPolicy().cooldown
        var facts = LeadFacts(
            siteID: owner.site.id, dealerID: owner.site.dealer,  // the site's dealer until dealer routing decides per call
            staticNumber: owner.staticNumber, defaultSource: owner.site.unmatchedSource(pool: owner.pool), cooldown: cooldown,
            leases: owner.pool == nil ? [] : try await store.leases(on: number, from: t - cooldown, to: t))
        if let caller = call.caller {
            facts.callerVisitor = try await ledger.callerVisitor(caller, number: number, at: t, onSiteWithin: settings.onSiteWindow)
        }
        let match = CallMatcher.match(facts.matchQuery(for: call, number: number))
        matches[match.kind]?.increment()
        // The person behind the call: the matched visitor, or the one it merges into once the caller is bound.
        if let visitor = match.visitorID {
            let survivor = try await ledger.survivorAfterBinding(call.caller, to: visitor)
            let ids = try await ledger.person(of: survivor).ids + (try await ledger.person(of: visitor).ids)
            facts.journey = try await ledger.journey(of: ids, upTo: t)
            facts.person = survivor
        }
        facts.openLeads = try await ledger.openLeads(
            visitor: facts.person, caller: call.caller, search: settings.repeatSearch(at: t, site: facts.siteID, dealer: facts.dealerID)
        ).map(\.leadCall)
        return (Lead.open(call, number: number, match: match, facts: facts, rules: settings, at: clock.now()), match.visitorID)
    }

    /// The repeats of `junked`, a lead that has just turned junk, decided again (`LeadRules.redecide`), each with
    /// the revision it was decided from.
    func redecideRepeats(of junked: String) async throws(StoreUnavailable) -> [LeadLedger.Redecided] {
        let repeats = try await ledger.repeats(of: junked)
        guard !repeats.isEmpty else { return [] }
        // The leads each repeat may repeat instead (the repeats that become leads are the rule's own business).
        var near: [String: LeadCall] = [:]
        for row in repeats {
            let call = row.leadCall
            let search = settings.repeatSearch(at: call.startedAt, site: call.siteID, dealer: call.dealerID)
            for lead in try await ledger.openLeads(visitor: call.person, caller: call.caller, search: search, excluding: junked) {
                near[lead.callID] = lead.leadCall
            }
        }
        let stored = Dictionary(repeats.map { ($0.callID, $0) }, uniquingKeysWith: { first, _ in first })
        var redecided: [LeadLedger.Redecided] = []
        for decided in settings.redecide(repeatsOf: junked, repeats: repeats.map(\.leadCall), leads: Array(near.values)) {
            guard var lead = stored[decided.id]?.lead else {
                logger.warning("repeat of a junk lead not decided again: unreadable stored lead", metadata: ["call": "\(decided.id)"])
                continue
            }
            let from = lead.revision
            lead.redecide(repeatOf: decided.repeatOf, at: clock.now())
            redecided.append(LeadLedger.Redecided(lead: lead, decidedFrom: from))
        }
        return redecided
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
