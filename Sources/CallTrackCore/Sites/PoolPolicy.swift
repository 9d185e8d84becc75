/// How a pool hands out its numbers (SPEC §Concepts: Pool).
public struct PoolPolicy: Hashable, Sendable, Codable {
    /// A lease ends this long after the last activity (page load or ping).
    public var idleTTL: Duration
    /// A lease ends this long after it started, however active the page.
    public var maxAge: Duration
    /// After a lease ends the number is not given to anyone else for this long: a late caller may still dial it.
    public var cooldown: Duration
    public var onExhaustion: ExhaustionPolicy
    public var segment: SegmentRule
    public var leaseOn: LeaseTrigger

    public init(
        idleTTL: Duration = .seconds(20 * 60),
        maxAge: Duration = .seconds(8 * 3600),
        cooldown: Duration = .seconds(15 * 60),
        onExhaustion: ExhaustionPolicy = .fallback,
        segment: SegmentRule = .all,
        leaseOn: LeaseTrigger = .load
    ) {
        self.idleTTL = idleTTL
        self.maxAge = maxAge
        self.cooldown = cooldown
        self.onExhaustion = onExhaustion
        self.segment = segment
        self.leaseOn = leaseOn
    }
}

/// What a pool does when no number is free.
public enum ExhaustionPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Serve the site's default number: the call will be unmatched, but never misattributed.
    case fallback
    /// Hand out the number whose lease has been idle longest: two sessions hold it (a collision).
    case share
}

/// When the snippet may ask for a pool number.
public enum LeaseTrigger: Hashable, Sendable, Codable {
    /// On page load.
    case load
    /// After the first scroll, click or key press, or after this many seconds visible.
    case interaction(visibleSeconds: Int)

    public var name: String {
        switch self {
        case .load: "load"
        case .interaction: "interaction"
        }
    }
}

/// Which traffic a pool serves; the rest sees a static or the default number.
public enum SegmentRule: Hashable, Sendable, Codable {
    case all
    /// Only sessions whose source is paid (paid channel, or an ad click id).
    case paid
    /// Only sessions of these channels.
    case channels(Set<Channel>)

    public func admits(_ source: MarketingSource) -> Bool {
        switch self {
        case .all: true
        case .paid: source.channel.isPaid
        case .channels(let set): set.contains(source.channel)
        }
    }
}
