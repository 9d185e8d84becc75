import CallTrackCore
import Foundation
import Logging
import Metrics
import PostgresSink
import Store

/// Turns stored calls into leads: matches a call to a visit when it starts ringing, then updates the
/// lead when it is answered and when it ends. Each change is stored with its outbox entry in one
/// transaction, from where `LeadDelivery` takes it to PostgreSQL.
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
    @discardableResult
    public func catchUp() async -> Int {
        let behind: [CallRecord]
        do { behind = try await ledger.callsBehind() } catch {
            logger.warning("cannot check for calls without leads", metadata: ["error": "\(error.description)"])
            return 0
        }
        for call in behind { await handle(call) }
        if !behind.isEmpty { logger.notice("leads caught up after a restart", metadata: ["calls": "\(behind.count)"]) }
        await repairRepeats()
        return behind.count
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
        if let stored, stored.revision >= call.revision { return }
        var change: LeadChange
        var matchedVisitor: VisitorID?
        var previous: LeadChange?
        if let stored, let decoded = LeadPayload.decode(stored.payload) {
            change = decoded
            previous = decoded
        } else if let opened = try await open(call) {
            (change, matchedVisitor) = opened
        } else {
            try await store.apply([.call(call)])
            return
        }
        update(&change, with: call, after: previous?.revision)
        // A lead that turned junk takes its repeats with it: they are decided again, in the same transaction.
        let redecided: [LeadLedger.Redecided] =
            if previous?.isLead == true && !change.isLead { try await redecideRepeats(of: call.id) } else { [] }
        let binding: (phone: PhoneNumber, visitor: VisitorID)? =
            if let caller = call.caller, let visitor = matchedVisitor, change.matchKind != MatchKind.unmatched.rawValue {
                (caller, visitor)
            } else { nil }
        try await ledger.record(
            LeadLedger.Row(callID: call.id, revision: call.revision, siteID: change.siteID, visitorID: change.visitorID,
                           caller: change.caller, startedAt: call.startedAt, isLead: change.isLead, matchKind: change.matchKind,
                           dealerID: change.dealerID, junkReason: change.junkReason, repeatOf: change.repeatOf,
                           payload: Self.payload(change)),
            call: call, binding: stored == nil ? binding : nil, redecided: redecided, at: clock.now())
        for decision in redecided {
            logger.info("repeat decided again: the lead it repeated is junk", metadata: [
                "call": "\(decision.row.callID)", "junk_lead": "\(call.id)", "repeat_of": "\(decision.row.repeatOf ?? "-")",
                "is_lead": "\(decision.row.isLead)",
            ])
        }
        if stored == nil {
            logger.info("lead opened", metadata: [
                "call": "\(call.id)", "match": "\(change.matchKind)", "session": "\(change.sessionID ?? "-")",
                "candidates": "\(change.candidateCount)", "is_lead": "\(change.isLead)",
            ])
        }
    }

    /// Matches a call at its start and builds the first version of its lead; nil for a number no site tracks.
    func open(_ call: CallRecord) async throws(StoreUnavailable) -> (LeadChange, matchedVisitor: VisitorID?)? {
        guard let number = call.trackingNumber, let owner = owner(of: number) else {
            untracked.increment()
            logger.notice("call to a number no site tracks: stored, no lead", metadata: ["call": "\(call.id)", "dialled": "\(call.dialled)"])
            return nil
        }
        let t = call.startedAt
        let cooldown = owner.pool?.policy.cooldown ?? PoolPolicy().cooldown
        let leases = owner.pool == nil ? [] : try await store.leases(on: number, from: t - cooldown, to: t)
        var callerVisitor: CallerVisitor?
        if let caller = call.caller {
            callerVisitor = try await ledger.callerVisitor(caller, number: number, at: t, onSiteWithin: settings.onSiteWindow)
        }
        let match = CallMatcher.match(MatchQuery(
            trackingNumber: number, caller: call.caller, at: t, staticNumber: owner.staticNumber, leases: leases,
            cooldown: cooldown, callerVisitor: callerVisitor))
        matches[match.kind]?.increment()

        // The person behind the call: the matched visitor, or the one it merges into once the caller is bound.
        var journey: [SessionRecord] = []
        var person: VisitorID?
        if let visitor = match.visitorID {
            let survivor = try await ledger.survivorAfterBinding(call.caller, to: visitor)
            let ids = try await ledger.person(of: survivor).ids + (try await ledger.person(of: visitor).ids)
            journey = try await ledger.journey(of: ids, upTo: t)
            person = survivor
        }
        let session = journey.last { $0.id == match.sessionID }
        let firstTouch: Touch?
        let lastTouch: Touch?
        if let source = match.staticSource {
            firstTouch = Touch(static: source, at: t)
            lastTouch = firstTouch
        } else {
            firstTouch = journey.first.map(Touch.init)
            lastTouch = (journey.last { !$0.source.isDirect } ?? journey.last).map(Touch.init)
        }
        let dealer = owner.site.dealer  // the placeholder until dealer routing decides per call
        let open = try await ledger.openLeads(
            visitor: person, caller: call.caller, search: settings.repeatSearch(at: t, site: owner.site.id, dealer: dealer))
        let repeatOf = settings.repeatTarget(
            for: LeadCall(id: call.id, startedAt: t, person: person, caller: call.caller, siteID: owner.site.id, dealerID: dealer),
            among: open.map(\.leadCall))
        let change = LeadChange(
            callID: call.id, revision: Int64(call.revision), siteID: owner.site.id, trackingNumber: number.e164,
            caller: call.caller?.e164 ?? call.callerRaw, callerName: call.callerName, startedAt: t,
            matchKind: match.kind.rawValue, matchConfidence: match.confidence, candidateCount: match.candidateCount,
            matchExplanation: Touch.json(MatchExplanation(match)), visitorID: person, sessionID: match.sessionID,
            userAgent: session?.userAgent, firstTouch: firstTouch.map(Touch.json), lastTouch: lastTouch.map(Touch.json),
            journey: Touch.json(journey.map(Touch.init)), dealerID: dealer, repeatOf: repeatOf, changedAt: clock.now())
        return (change, match.visitorID)
    }

    /// The repeats of `junked`, a lead that has just turned junk, decided again (`LeadRules.redecide`): each with the
    /// payload it was decided from, to be stored with the junk verdict.
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
            guard let row = stored[decided.id], var change = LeadPayload.decode(row.payload) else {
                logger.warning("repeat of a junk lead not decided again: unreadable payload", metadata: ["call": "\(decided.id)"])
                continue
            }
            change.repeatOf = decided.repeatOf
            change.isLead = settings.isLead(junkReason: change.junkReason, repeatOf: change.repeatOf)
            change.revision += 1
            change.changedAt = clock.now()
            var updated = row
            updated.repeatOf = change.repeatOf
            updated.isLead = change.isLead
            updated.payload = Self.payload(change)
            redecided.append(LeadLedger.Redecided(row: updated, decidedFrom: row.payload))
        }
        return redecided
    }

    static func payload(_ change: LeadChange) -> String {
        String(decoding: (try? LeadPayload.encoder().encode(change)) ?? Data(), as: UTF8.self)
    }

    /// The call's latest facts, and the rules that depend on them (junk, repeat). The lead's revision grows with
    /// every change: at least the call's revision, and above `previous` (the lead's last revision), which a
    /// repeat decided again may have raised beyond its call's.
    func update(_ change: inout LeadChange, with call: CallRecord, after previous: Int64?) {
        change.revision = max(Int64(call.revision), (previous ?? 0) + 1)
        change.answeredAt = call.answeredAt
        change.endedAt = call.endedAt
        change.disposition = call.disposition ?? (call.answeredAt != nil ? "answered" : "ringing")
        change.answeredBy = call.answeredBy
        change.talkSeconds = Int((call.talkSeconds ?? 0).rounded())
        change.ringSeconds = Int((call.ringSeconds ?? 0).rounded())
        change.changedAt = clock.now()
        change.junkReason = settings.junkReason(call)
        change.isLead = settings.isLead(junkReason: change.junkReason, repeatOf: change.repeatOf)
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
