/// Synthetic website traffic with known ground truth, for `PoolSimulator`: who visits when, for how long,
/// who calls and when, who calls again weeks later, and how many visits are bots.
public struct TrafficProfile: Sendable, Hashable, Codable {
    /// Visits a day, bots included.
    public var visitsPerDay: Double
    /// The share of a day's visits in each hour, local time (24 weights; any scale).
    public var hourlyWeights: [Double]
    /// Median time a visitor keeps the page open; lengths are log-normal with `sessionSpread`.
    public var sessionMedian: Duration
    public var sessionSpread: Double
    /// The snippet pings this often while the page is open (`snippet.ping_interval_s`).
    public var pingInterval: Duration
    /// Share of (human) visits that end in a call.
    public var callShare: Double
    /// Median delay from the visit's start to the call; log-normal with `callDelaySpread` (a long tail calls
    /// after leaving the page: the late callers).
    public var callDelayMedian: Duration
    public var callDelaySpread: Double
    /// Share of callers who call again, `repeatAfterDays` later, without a new visit.
    public var repeatShare: Double
    public var repeatAfterDays: ClosedRange<Int>
    /// Share of visits by bots (they get the default number and never call).
    public var botShare: Double
    /// Measured visits per hour, hour 0 at the simulation's start, replayed exactly (each at a uniform instant
    /// in its hour) instead of `visitsPerDay` spread by `hourlyWeights` (`MeasuredTraffic.profile`).
    public var replayedHours: [Int]?

    /// A B2B site: weekday office hours, short visits, 3% call a few minutes in.
    public init(
        visitsPerDay: Double = 2_000, hourlyWeights: [Double] = TrafficProfile.officeHours,
        sessionMedian: Duration = .seconds(180), sessionSpread: Double = 1.0, pingInterval: Duration = .seconds(60),
        callShare: Double = 0.03, callDelayMedian: Duration = .seconds(240), callDelaySpread: Double = 1.0,
        repeatShare: Double = 0.1, repeatAfterDays: ClosedRange<Int> = 7...30, botShare: Double = 0.05,
        replayedHours: [Int]? = nil
    ) {
        self.visitsPerDay = visitsPerDay
        self.hourlyWeights = hourlyWeights
        self.sessionMedian = sessionMedian
        self.sessionSpread = sessionSpread
        self.pingInterval = pingInterval
        self.callShare = callShare
        self.callDelayMedian = callDelayMedian
        self.callDelaySpread = callDelaySpread
        self.repeatShare = repeatShare
        self.repeatAfterDays = repeatAfterDays
        self.botShare = botShare
        self.replayedHours = replayedHours
    }

    /// The hour a visit arriving `hoursSinceStart` hours into the simulation counts as the busiest one.
    public func isBusiestHour(_ hoursSinceStart: Int) -> Bool {
        if let replayedHours { return hoursSinceStart == replayedHours.indices.max { replayedHours[$0] < replayedHours[$1] } }
        return hoursSinceStart % 24 == (hourlyWeights.indices.max { hourlyWeights[$0] < hourlyWeights[$1] } ?? 0)
    }

    /// Quiet nights, a morning climb, the busiest hours 10:00–17:00.
    public static let officeHours: [Double] = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 12, 12, 11, 12, 12, 11, 10, 8, 6, 5, 4, 3, 2, 1]

    /// Human visits arriving in the busiest hour (the hour Erlang B sizes a pool for): of the day, or of the
    /// replayed hours.
    public var busiestHourArrivals: Double {
        if let replayedHours { return Double(replayedHours.max() ?? 0) * (1 - botShare) }
        let total = hourlyWeights.reduce(0, +)
        guard total > 0 else { return 0 }
        return visitsPerDay * (1 - botShare) * (hourlyWeights.max() ?? 0) / total
    }
}
