/// The ordered log of lead changes the destinations deliver (SPEC §Leads): *that* a lead (by call id and revision)
/// or a merge (`merge:<visitor>`) changed, committed with the change itself. Each destination reads it through its
/// own cursor at its own pace; an entry is pruned only once every destination has passed it.
public protocol DeliveryLog: Sendable {
    /// The log's topic (`lead`): destinations' metrics are labelled with it.
    var topic: String { get }
    /// Registers `destination` (first time: at `start`) and returns its cursor.
    func register(_ destination: String, from start: DeliveryStart, at now: Timestamp) async throws(StoreUnavailable) -> Int64
    func unregister(_ destination: String) async throws(StoreUnavailable)
    /// Every registered destination's cursor.
    func cursors() async throws(StoreUnavailable) -> [String: Int64]
    /// Entries after `id`, oldest first.
    func entries(after id: Int64, limit: Int) async throws(StoreUnavailable) -> [OutboxEntry]
    /// Moves the destination's cursor to `through` and records the entries it set aside, atomically.
    func advance(_ destination: String, through id: Int64, setAside: [(id: Int64, error: String)], at now: Timestamp) async throws(StoreUnavailable)
    /// Moves `destination`'s cursor back to before the first entry enqueued at or after `since` (never forward) and
    /// forgets what it set aside from there; returns how many entries then wait for it, nil for a destination never
    /// registered. A running delivery moves it through `DestinationDelivery.replay(since:)`, between batches.
    func rewind(_ destination: String, since: Timestamp, at now: Timestamp) async throws(StoreUnavailable) -> Int?
    /// Removes entries older than `cutoff` every destination has passed; returns how many.
    @discardableResult
    func prune(before cutoff: Timestamp) async throws(StoreUnavailable) -> Int
    func stats(for destination: String) async throws(StoreUnavailable) -> OutboxStats
    /// Entries in the log.
    func depth() async throws(StoreUnavailable) -> Int
    /// Returns once an entry after `id` may exist (a new commit), or soon after, so a waiting destination wakes.
    func waitForEntries(after id: Int64) async
}

/// Where a destination registered for the first time starts reading.
public enum DeliveryStart: Sendable, Hashable {
    /// At the newest entry: it receives the changes committed from then on (what happened before it was
    /// configured is not replayed to it, e.g. a webhook added a year in does not get a year of leads).
    case newest
    /// Before the oldest entry still in the log: it receives everything not yet pruned.
    case beginning
}

/// One change in the outbox log.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    /// What changed: a call id (its lead), or `merge:<visitor>`; entries of one key are delivered in id order.
    public var key: String
    /// The lead revision that changed; nil for a merge.
    public var revision: Int64?
    public var enqueuedAt: Timestamp

    public init(id: Int64, key: String, revision: Int64?, enqueuedAt: Timestamp) {
        self.id = id
        self.key = key
        self.revision = revision
        self.enqueuedAt = enqueuedAt
    }
}

/// What waits for one destination.
public struct OutboxStats: Sendable, Hashable {
    /// Entries above the destination's cursor.
    public var pending: Int
    /// Entries the destination set aside.
    public var failed: Int
    public var oldestPendingAt: Timestamp?

    public init(pending: Int, failed: Int, oldestPendingAt: Timestamp?) {
        self.pending = pending
        self.failed = failed
        self.oldestPendingAt = oldestPendingAt
    }
}
