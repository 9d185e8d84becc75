/// What to ask a routing decision: a call on a site, from a caller, at a time.
public struct RoutingRequest: Hashable, Sendable {
    public var site: String
    /// nil when the caller withheld their number: only the catch-all dealers apply.
    public var caller: PhoneNumber?
    public var at: Timestamp
    /// The dealer who handled this person before, if known (from the identity graph).
    public var stickyDealer: String?

    public init(site: String, caller: PhoneNumber?, at: Timestamp, stickyDealer: String? = nil) {
        self.site = site
        self.caller = caller
        self.at = at
        self.stickyDealer = stickyDealer
    }
}

/// Where a call goes and why: the dealer, the dial targets in order (the dealer's own, then the
/// failover dealers'), and a sentence a person can check.
public struct RoutingDecision: Hashable, Sendable {
    /// The chosen dealer's id; nil: nobody could take the call, the site's default route applies.
    public var dealer: String?
    /// How the dealer was found.
    public var rule: Rule
    /// Dealers to try next if the chosen one does not answer, best first.
    public var failover: [String]
    /// Dial strings in order: the chosen dealer's targets, then each failover dealer's.
    public var targets: [String]
    /// Which dealer each of `targets` belongs to.
    public var targetDealers: [String]
    /// e.g. `region +7 495 → moscow-north, priority 1, weight 3/5, open, 2/4 lines busy`.
    public var reason: String

    public enum Rule: String, Hashable, Sendable, Codable, CaseIterable {
        /// The dealer who handled this caller before.
        case sticky
        /// The caller is on the dealer's list.
        case caller
        /// The caller's area code.
        case area
        /// The caller's country.
        case country
        /// A dealer for callers from anywhere.
        case anyRegion = "any_region"
        /// Nobody available: the site's default route.
        case none
        /// The site's fixed dealer (`site.<id>.dealer`): a site no routing dealer serves, and leads stored before
        /// routing decided per call. `DealerBook.decide` never returns it.
        case site
    }
}
