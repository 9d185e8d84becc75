/// A call change as the lead store handled it: what it held, and what was decided and written.
public struct AppliedCallChange: Sendable {
    public var facts: CallFacts
    public var decision: LeadDecision

    public init(facts: CallFacts, decision: LeadDecision) {
        self.facts = facts
        self.decision = decision
    }
}

/// The calls and leads as the daemon keeps them (SPEC §Leads). The lead path is one read, one pure decision and
/// one write per call change (`apply`): the call, its lead, the caller's binding, the repeats decided again and
/// the entries of the `deliveryLog`, in one transaction — a lead is never stored without being queued for its
/// destinations, nor queued twice.
public protocol LeadStore: Sendable {
    /// Where the changes this store commits are logged for the destinations.
    var deliveryLog: any DeliveryLog { get }
    /// Reads what this change of `call` needs, decides it (`LeadDecision.decide`) and writes the result, atomically;
    /// `answeringDealer` is the dealer whose dial target answered the call, if one did.
    func apply(
        _ call: CallRecord, opening: LeadOpening?, rules: LeadRules, answeringDealer: DealerID?, at now: Timestamp
    ) async throws(StoreUnavailable) -> AppliedCallChange
    /// Stores repeats decided again without a change of their lead (the start-up repair), with their log entries.
    func record(redecided: [RedecidedLead], at now: Timestamp) async throws(StoreUnavailable)
    /// The repeats of the junk lead `junked` and the leads near them.
    func repeatFacts(of junked: String, rules: LeadRules) async throws(StoreUnavailable) -> RepeatFacts
    /// Junk leads that still have repeats pointing at them (stored by an older release).
    func junkWithRepeats(limit: Int) async throws(StoreUnavailable) -> [String]
    /// Calls stored whose lead is missing or behind the call (a crash between the two), oldest first, after `after`.
    func callsBehind(after: CallRecord?, limit: Int) async throws(StoreUnavailable) -> [CallRecord]
    func lead(_ callID: String) async throws(StoreUnavailable) -> StoredLead?
    /// Leads, newest call first.
    func leads(limit: Int) async throws(StoreUnavailable) -> [StoredLead]
    /// Per dealer, the leads of the calls started in [from, to) and what the CRM reported of them.
    func dealerConversions(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [DealerID: DealerConversion]
    /// The readable leads of the calls started in [from, to), in start order: what a report over days reads.
    func leads(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [Lead]
    /// The stored leads of these calls, by call id (calls without a lead are absent).
    func leads(_ callIDs: [String]) async throws(StoreUnavailable) -> [String: StoredLead]
    /// The calls started in [from, to) that are leads and not junk, with the analytics ids of the visit each was
    /// matched to: what web analytics get as offline conversions.
    func conversions(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [LeadConversion]
    /// The deals won in [from, to) (by the CRM's time of the win), each with its amount and the analytics ids of the
    /// visit its lead was matched to.
    func wonDeals(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [LeadConversion]
    /// Stores what the CRM reported of a lead: one outcome per stage, a repeated report counts once, a different
    /// one replaces it; the lead's new revision is queued for every destination.
    func record(_ outcome: DealOutcome, for callID: String, at now: Timestamp) async throws(StoreUnavailable) -> OutcomeRecording
}

/// What recording a CRM outcome did (`LeadStore.record(_:for:at:)`).
public enum OutcomeRecording: Sendable, Hashable {
    /// Stored as a new revision of the lead, queued for every destination.
    case recorded(Lead)
    /// The same report was stored already: nothing changed.
    case unchanged(Lead)
    /// No lead has that call id.
    case noLead
}
