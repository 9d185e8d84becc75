/// One website: its pools, its default number, who may call the API, how numbers are shown.
public struct Site: Hashable, Sendable, Codable, Identifiable {
    public var id: String
    /// Shown when no tracking number applies (bots, floods, exhaustion, segment misses).
    public var defaultNumber: PhoneNumber
    /// The site's own numbers as written on its pages: the snippet finds and swaps them.
    public var pageNumbers: [PhoneNumber]
    /// Browser origins allowed to call the API, e.g. `https://acme.example`. `*` allows any.
    public var allowedOrigins: [String]
    public var displayMask: DisplayMask
    /// CSS selectors of elements that hold the number (hidden until swapped).
    public var selectors: [String]
    /// Honour Do-Not-Track / Global Privacy Control: default number, no ids stored.
    public var respectDoNotTrack: Bool
    /// Pools in order of preference: a session takes the first whose segment admits it.
    public var pools: [Pool]
    public var staticNumbers: [StaticNumber]
    /// A static number for traffic no pool admits (instead of the default number).
    public var unsegmentedNumber: PhoneNumber?
    /// The dealer this site's leads go to when no routing dealer serves the site (`site.<id>.dealer`).
    public var dealer: String?
    /// The source of an `unmatched` call to one of the site's own numbers, or to a pool that names none.
    public var defaultSource: MarketingSource?

    public init(
        id: String, defaultNumber: PhoneNumber, pageNumbers: [PhoneNumber] = [], allowedOrigins: [String] = [],
        displayMask: DisplayMask = DisplayMask("+X XXX XXX-XX-XX"), selectors: [String] = [],
        respectDoNotTrack: Bool = false, pools: [Pool] = [], staticNumbers: [StaticNumber] = [],
        unsegmentedNumber: PhoneNumber? = nil, dealer: String? = nil, defaultSource: MarketingSource? = nil
    ) {
        self.id = id
        self.defaultNumber = defaultNumber
        self.pageNumbers = pageNumbers.isEmpty ? [defaultNumber] : pageNumbers
        self.allowedOrigins = allowedOrigins
        self.displayMask = displayMask
        self.selectors = selectors
        self.respectDoNotTrack = respectDoNotTrack
        self.pools = pools
        self.staticNumbers = staticNumbers
        self.unsegmentedNumber = unsegmentedNumber
        self.dealer = dealer
        self.defaultSource = defaultSource
    }

    /// The source of an `unmatched` call to `pool` (nil: one of the site's own numbers): the pool's default
    /// source, else the site's, else `utm_source=<site>-phone`, so no lead reaches the CRM without a source.
    public func unmatchedSource(pool: Pool?) -> MarketingSource {
        pool?.defaultSource ?? defaultSource ?? MarketingSource(utmSource: "\(id)-phone", channel: .direct)
    }

    public func allows(origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin)
    }
}

/// A set of dynamic numbers of one site, leased to sessions under one policy.
public struct Pool: Hashable, Sendable, Codable, Identifiable {
    public var id: String
    public var numbers: [PhoneNumber]
    public var policy: PoolPolicy
    /// The source of a call to one of these numbers that no visit explains (`unmatched`).
    public var defaultSource: MarketingSource?

    public init(id: String, numbers: [PhoneNumber], policy: PoolPolicy = PoolPolicy(), defaultSource: MarketingSource? = nil) {
        self.id = id
        self.numbers = numbers
        self.policy = policy
        self.defaultSource = defaultSource
    }
}

/// A number that is never leased: every call to it is attributed to its fixed source.
public struct StaticNumber: Hashable, Sendable, Codable {
    public var number: PhoneNumber
    public var source: MarketingSource

    public init(number: PhoneNumber, source: MarketingSource) {
        self.number = number
        self.source = source
    }
}
