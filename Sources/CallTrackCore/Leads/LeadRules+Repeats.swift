/// A call as the uniqueness and junk rules see it: who called, when, where the call went, and its verdict.
public struct LeadCall: Hashable, Sendable {
    public var id: String
    public var startedAt: Timestamp
    /// The person (visitor id) behind the call, when matching found one.
    public var person: VisitorID?
    /// The caller's number; nil when withheld or not a number.
    public var caller: PhoneNumber?
    public var siteID: String
    public var dealerID: DealerID?
    /// Why the call is not a lead; nil while nothing says so (a call in progress is not junk until its end does).
    public var junkReason: JunkReason?
    /// The lead this call repeats.
    public var repeatOf: String?

    public init(
        id: String, startedAt: Timestamp, person: VisitorID?, caller: PhoneNumber?, siteID: String, dealerID: DealerID?,
        junkReason: JunkReason? = nil, repeatOf: String? = nil
    ) {
        self.id = id
        self.startedAt = startedAt
        self.person = person
        self.caller = caller
        self.siteID = siteID
        self.dealerID = dealerID
        self.junkReason = junkReason
        self.repeatOf = repeatOf
    }

    /// A lead: neither junk nor the repeat of another lead.
    public var isLead: Bool { junkReason == nil && repeatOf == nil }
}

/// Which call is the lead and which repeats it (SPEC §Leads in PostgreSQL, "Repeat callers").
///
/// A call repeats the latest lead of the same person or caller that started within the uniqueness window
/// before it, in its scope. That lead may still be in progress and turn out junk when it ends (a talk shorter
/// than `minTalkSeconds`); its repeats are then decided again, so a `repeatOf` always names a lead:
///
/// ```
/// A 10:00 lead            A 10:00 junk (short_talk)
/// B 10:05 repeat of A  →  B 10:05 lead
/// C 10:09 repeat of A     C 10:09 repeat of B
/// ```
extension LeadRules {
    /// Whether `call` may repeat `lead`: a lead of the same person or caller, started within the uniqueness window
    /// before the call (strictly before), in the call's scope.
    public func mayRepeat(_ call: LeadCall, _ lead: LeadCall) -> Bool {
        guard lead.isLead, lead.id != call.id else { return false }
        let search = repeatSearch(at: call.startedAt, site: call.siteID, dealer: call.dealerID)
        guard lead.startedAt >= search.since, lead.startedAt < search.before else { return false }
        switch search.partition {
        case .all: break
        case .site(let site): guard lead.siteID == site else { return false }
        case .dealer(let dealer): guard lead.dealerID == dealer else { return false }
        }
        if let person = call.person, lead.person == person { return true }
        if let caller = call.caller, lead.caller == caller { return true }
        return false
    }

    /// The lead `call` repeats: the latest of `leads` it may repeat (ties by call id); nil when it repeats none.
    public func repeatTarget(for call: LeadCall, among leads: some Sequence<LeadCall>) -> String? {
        var latest: LeadCall?
        for lead in leads where mayRepeat(call, lead) {
            if let current = latest, (current.startedAt, current.id) >= (lead.startedAt, lead.id) { continue }
            latest = lead
        }
        return latest?.id
    }

    /// The repeats of `junked`, decided again now that it is no longer a lead, as if it had never been one.
    ///
    /// Oldest first, each repeats the latest lead it may repeat among `leads` (the other leads near it) and the
    /// repeats before it that this decision made leads; a repeat that finds none becomes the lead itself, unless
    /// it is junk, which then repeats nothing. Returns every call of `repeats` that repeated `junked`, with its
    /// new `repeatOf`, oldest first.
    public func redecide(repeatsOf junked: String, repeats: [LeadCall], leads: [LeadCall]) -> [LeadCall] {
        var pool = leads.filter { $0.id != junked && $0.isLead }
        var decided: [LeadCall] = []
        for var call in repeats.filter({ $0.repeatOf == junked }).sorted(by: { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }) {
            call.repeatOf = repeatTarget(for: call, among: pool)
            if call.isLead { pool.append(call) }
            decided.append(call)
        }
        return decided
    }
}
