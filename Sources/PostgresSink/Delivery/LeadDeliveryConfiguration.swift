import CallTrackCore
import Foundation

/// How the lead delivery batches, retries and cleans up.
public struct LeadDeliveryConfiguration: Sendable {
    /// Rows per upsert when there is a backlog (at most `LeadWriter.maxRowsPerStatement`); 500 measured
    /// as fast as 1,000 here, with half the work redone when a bad row is bisected out.
    public var batchSize: Int
    /// First wait after PostgreSQL failed; doubles per failure up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Delivered outbox rows are kept this long (for audits), then pruned.
    public var keepDelivered: Duration
    /// How often depth and age metrics are refreshed while delivering.
    public var statsInterval: Duration

    public init(
        batchSize: Int = 500, initialBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(30), keepDelivered: Duration = .seconds(7 * 86_400),
        statsInterval: Duration = .seconds(1)
    ) {
        self.batchSize = max(1, min(batchSize, LeadWriter.maxRowsPerStatement))
        self.initialBackoff = initialBackoff
        self.maxBackoff = max(initialBackoff, maxBackoff)
        self.keepDelivered = keepDelivered
        self.statsInterval = statsInterval
    }
}
