import CallTrackCore

/// How a destination's delivery batches, retries and cleans up.
public struct DeliveryConfiguration: Sendable {
    /// Changes per batch when there is a backlog (at most the destination's `maxBatchSize`); 500 measured as
    /// fast as 1,000 into PostgreSQL, with half the work redone when a bad row is bisected out.
    public var batchSize: Int
    /// First wait after the destination failed; doubles per failure up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Outbox entries every destination has passed are kept this long (for audits), then pruned.
    public var keepDelivered: Duration
    /// How often depth and age metrics are refreshed while delivering.
    public var statsInterval: Duration
    /// Where a destination seen for the first time starts; later starts resume at its cursor.
    public var start: DeliveryStart

    public init(
        batchSize: Int = 500, initialBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(30), keepDelivered: Duration = .seconds(7 * 86_400),
        statsInterval: Duration = .seconds(1), start: DeliveryStart = .newest
    ) {
        self.batchSize = max(1, batchSize)
        self.initialBackoff = initialBackoff
        self.maxBackoff = max(initialBackoff, maxBackoff)
        self.keepDelivered = keepDelivered
        self.statsInterval = statsInterval
        self.start = start
    }
}
