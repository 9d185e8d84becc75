/// A dealer calls can be sent to: who it serves (regions, sites, listed callers), how it is
/// preferred (priority, then weight), how much it can take (capacity), when (business hours), and
/// where Asterisk reaches it (dial targets, tried in order).
public struct Dealer: Hashable, Sendable, Identifiable {
    /// Letters, digits, `-` and `_`: the name in `CT_DEALER`, leads and metrics.
    public var id: String
    public var name: String
    /// Caller regions served (`+7 495`, `+7`); empty: callers from anywhere.
    public var regions: [PhoneRegion]
    /// Sites served; empty: every site.
    public var sites: Set<String>
    /// Callers always sent here first (a key account's own dealer).
    public var callers: Set<PhoneNumber>
    /// 1 is tried first; a higher number only when every dealer of a lower one is closed or full.
    public var priority: Int
    /// Share of calls among open dealers of the same priority (smooth weighted round robin).
    public var weight: Int
    /// Weight `auto`: routing uses the weight the dealer's measured answer rate suggests
    /// (`DealerStats.suggestedWeight`), `weight` until enough calls were measured.
    public var autoWeight: Bool
    /// Concurrent calls at most; nil: no limit.
    public var capacity: Int?
    public var hours: BusinessHours
    /// Asterisk dial strings such as `PJSIP/dealer-12` or `Local/200@dealers`, in the order to try.
    public var targets: [String]
    public var enabled: Bool

    public init(
        id: String, name: String? = nil, regions: [PhoneRegion] = [], sites: Set<String> = [], callers: Set<PhoneNumber> = [],
        priority: Int = 1, weight: Int = 1, capacity: Int? = nil, hours: BusinessHours = .always(), targets: [String],
        enabled: Bool = true, autoWeight: Bool = false
    ) {
        self.autoWeight = autoWeight
        self.id = id
        self.name = name ?? id
        self.regions = regions
        self.sites = sites
        self.callers = callers
        self.priority = priority
        self.weight = weight
        self.capacity = capacity
        self.hours = hours
        self.targets = targets
        self.enabled = enabled
    }

    public func serves(site: String) -> Bool { sites.isEmpty || sites.contains(site) }

    /// Whether `busy` lines leave room for one more call.
    public func hasRoom(busy: Int) -> Bool { capacity.map { busy < $0 } ?? true }

    /// `2/4 lines busy`, or `2 lines busy (no limit)`.
    func lines(busy: Int) -> String {
        capacity.map { "\(busy)/\($0) lines busy" } ?? "\(busy) line\(busy == 1 ? "" : "s") busy (no limit)"
    }
}
