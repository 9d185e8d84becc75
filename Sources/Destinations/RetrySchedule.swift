/// How long an entry waits before its next attempt at a destination (webhooks, GA4): exponential, capped, with jitter so that many
/// entries that failed together (an endpoint restarting) do not come back together.
///
/// ```
/// initial 1s, maximum 5m, jitter r ∈ [0, 1] (injected):
/// failure 1 → 0.5…1 s, 2 → 1…2 s, 3 → 2…4 s, … 10 → 256…512 s → capped: 150…300 s
/// ```
/// "Equal jitter": half the delay is fixed, half random, so a retry never comes sooner than half the schedule.
/// `r` is passed in (a test passes 1 and gets the schedule's exact upper bound).
public struct RetrySchedule: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(300)) {
        self.initial = max(.milliseconds(1), initial)
        self.maximum = max(self.initial, maximum)
    }

    /// The wait after the `failures`-th consecutive failure (1 for the first), scaled by `0.5 + 0.5 × r`.
    public func delay(afterFailure failures: Int, jitter r: Double) -> Duration {
        let doublings = min(max(0, failures - 1), 40)
        var base = initial
        for _ in 0..<doublings {
            base *= 2
            if base >= maximum { break }
        }
        base = min(base, maximum)
        let r = r.isFinite ? min(1, max(0, r)) : 1
        return base * (0.5 + 0.5 * r)
    }
}
