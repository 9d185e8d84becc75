/// One lead as stored: the call revision it was brought up to, its verdict as the repeat rule reads it, and the lead.
public struct StoredLead: Sendable, Hashable {
    public var callID: String
    /// The revision of the call the lead was last brought up to (a decision again raises the lead's own
    /// revision, not this one): a call event at or below it has been handled.
    public var callRevision: Int
    /// The call as the repeat rule sees it, from the row's columns.
    public var leadCall: LeadCall
    /// The lead; nil for a row the schema's upgrade could not fill (an older daemon's unreadable payload).
    public var lead: Lead?

    public init(callID: String, callRevision: Int, leadCall: LeadCall, lead: Lead?) {
        self.callID = callID
        self.callRevision = callRevision
        self.leadCall = leadCall
        self.lead = lead
    }
}

/// A lead decided again because the lead it repeated turned junk, and the revision it was decided from. It is
/// written only over that revision; a lead changed meanwhile fails the whole write.
public struct RedecidedLead: Sendable, Hashable {
    public var lead: Lead
    public var decidedFrom: Int64

    public init(lead: Lead, decidedFrom: Int64) {
        self.lead = lead
        self.decidedFrom = decidedFrom
    }
}

/// Where a call rang, as the configuration knows it: what opening its lead needs besides what the store holds.
public struct LeadOpening: Sendable {
    public var number: PhoneNumber
    /// The configuration's part of the facts (site, dealer, static entry, default source, cooldown); the store
    /// fills in the rest.
    public var facts: LeadFacts
    /// Whether the number is a pool's: only a pool's numbers have leases to match the call to.
    public var pooled: Bool
    /// Decides the call's dealer, given the dealer who handled this person before (the sticky dealer, which the
    /// store reads once it knows the person); nil: the site has no routing dealers, `facts` keeps its dealer.
    public var route: (@Sendable (_ sticky: DealerID?) -> RoutingDecision)?

    public init(number: PhoneNumber, facts: LeadFacts, pooled: Bool, route: (@Sendable (_ sticky: DealerID?) -> RoutingDecision)? = nil) {
        self.number = number
        self.facts = facts
        self.pooled = pooled
        self.route = route
    }
}

/// The repeats of a lead that is no longer a lead, as stored, and the other leads each of them may repeat instead.
public struct RepeatFacts: Sendable {
    public var junked: String
    public var repeats: [StoredLead]
    /// Leads near the repeats that they may repeat (`LeadRules.repeatSearch` of each), the junk one excluded.
    public var leads: [LeadCall]

    public init(junked: String, repeats: [StoredLead], leads: [LeadCall]) {
        self.junked = junked
        self.repeats = repeats
        self.leads = leads
    }
}

/// What the store held for one change of a call, read in one transaction: everything `LeadDecision.decide` needs.
///
/// Which facts are read depends on what is stored: a call without a readable lead on a tracked number needs its
/// match (and the journey and open leads of the person it finds); a lead that turns junk needs its repeats.
public struct CallFacts: Sendable {
    /// The call's stored lead, if any.
    public var stored: StoredLead?
    /// For a lead to open: the number, the match, and what opening it needs (`Lead.open`).
    public var opening: Opened?
    /// For a lead that turns junk with this change (`LeadDecision.turnsJunk`): its repeats.
    public var repeats: RepeatFacts?

    public struct Opened: Sendable {
        public var number: PhoneNumber
        public var match: Match
        public var facts: LeadFacts

        public init(number: PhoneNumber, match: Match, facts: LeadFacts) {
            self.number = number
            self.match = match
            self.facts = facts
        }
    }

    public init(stored: StoredLead? = nil, opening: Opened? = nil, repeats: RepeatFacts? = nil) {
        self.stored = stored
        self.opening = opening
        self.repeats = repeats
    }
}

/// What to store for one change of a call, decided from `CallFacts` alone: the store only reads and applies.
public enum LeadDecision: Sendable {
    /// The change is at or below the call revision the stored lead was brought up to: handled already.
    case handled
    /// The call rang a number no site tracks: the call is stored, without a lead.
    case callOnly
    /// The lead, opened or brought up to date, with what changes with it in the same write.
    case store(Change)

    public struct Change: Sendable {
        public var lead: Lead
        /// The lead was opened with this change (no readable lead was stored).
        public var opened: Bool
        /// The caller's phone, to bind to the matched visitor: a new lead matched to a visit.
        public var binding: (phone: PhoneNumber, visitor: VisitorID)?
        /// The repeats of this lead decided again because it turned junk, oldest first.
        public var redecided: [RedecidedLead]
        /// Repeats that could not be decided again: their stored lead is unreadable.
        public var unreadableRepeats: [String]
        /// What this change adds to its dealers' statistics (offered, the outcome, a missed call to watch).
        public var tally: DealerTally
    }

    /// Decides the change `call` brings, given what the store held. `answeringDealer` is the dealer whose dial
    /// target answered the call, if one did (`DealerBook.dealer(answeredBy:)`): the lead is credited to it.
    public static func decide(
        _ call: CallRecord, facts: CallFacts, rules: LeadRules, answeringDealer: DealerID? = nil, at now: Timestamp
    ) -> LeadDecision {
        if let stored = facts.stored, stored.callRevision >= call.revision { return .handled }
        var lead: Lead
        var binding: (phone: PhoneNumber, visitor: VisitorID)?
        let previous = facts.stored?.lead
        if let previous {
            lead = previous
        } else if let opening = facts.opening {
            lead = Lead.open(call, number: opening.number, match: opening.match, facts: opening.facts, rules: rules, at: now)
            // A row that was there but unreadable was bound when it was first opened.
            if facts.stored == nil, let caller = call.caller, let visitor = opening.match.visitorID, opening.match.kind != .unmatched {
                binding = (caller, visitor)
            }
        } else {
            return .callOnly
        }
        lead.update(with: call, rules: rules, at: now)
        lead.credit(answeringDealer: answeringDealer)
        var redecided: [RedecidedLead] = []
        var unreadable: [String] = []
        // A lead that turned junk takes its repeats with it: they are decided again, in the same write.
        if let previous, turnsJunk(previous, with: call, rules: rules) {
            (redecided, unreadable) = redecide(facts.repeats ?? RepeatFacts(junked: call.id, repeats: [], leads: []), rules: rules, at: now)
        }
        return .store(Change(lead: lead, opened: previous == nil, binding: binding, redecided: redecided, unreadableRepeats: unreadable,
                             tally: DealerTally.change(from: previous, to: lead)))
    }

    /// Whether `call`'s change turns `stored`, a lead until now, into junk (or otherwise no lead): its repeats
    /// must then be decided again, and the store reads them with the call's facts.
    public static func turnsJunk(_ stored: Lead, with call: CallRecord, rules: LeadRules) -> Bool {
        guard stored.isLead else { return false }
        var next = stored
        next.update(with: call, rules: rules, at: stored.changedAt)
        return !next.isLead
    }

    /// The repeats of a lead that is no longer one, decided again (`LeadRules.redecide`), each with the revision it
    /// was decided from; and the repeats whose stored lead cannot be read, left as they are.
    public static func redecide(_ facts: RepeatFacts, rules: LeadRules, at now: Timestamp) -> (redecided: [RedecidedLead], unreadable: [String]) {
        guard !facts.repeats.isEmpty else { return ([], []) }
        let stored = Dictionary(facts.repeats.map { ($0.callID, $0) }, uniquingKeysWith: { first, _ in first })
        var redecided: [RedecidedLead] = []
        var unreadable: [String] = []
        for decided in rules.redecide(repeatsOf: facts.junked, repeats: facts.repeats.map(\.leadCall), leads: facts.leads) {
            guard var lead = stored[decided.id]?.lead else {
                unreadable.append(decided.id)
                continue
            }
            let from = lead.revision
            lead.redecide(repeatOf: decided.repeatOf, at: now)
            redecided.append(RedecidedLead(lead: lead, decidedFrom: from))
        }
        return (redecided, unreadable)
    }
}
