/// Each dealer's calls over time (SPEC §Dealer routing): hour buckets written with the leads, the unanswered
/// calls and the callbacks that answer them.
public protocol DealerHistory: Sendable {
    /// Keeps the callback, and marks `dealer`'s unanswered calls from `caller` before `at`, not called back yet, as
    /// called back at `at`; returns how many.
    @discardableResult
    func callback(dealer: DealerID, to caller: PhoneNumber, at: Timestamp) async throws(StoreUnavailable) -> Int
    /// Hour buckets of calls started in [from, to), in time order.
    func hours(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [DealerHour]
    /// Unanswered calls that ended in [from, to).
    func missedCalls(from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [MissedCall]
    /// Drops hours and unanswered calls older than `kept`; returns how many rows went.
    @discardableResult
    func prune(now: Timestamp, kept: Duration) async throws(StoreUnavailable) -> Int
}

/// A dealer the admin API created, changed or retired, as it sent the definition (JSON the store does not read).
public struct StoredDealer: Sendable, Hashable {
    public var id: String
    public var definition: String
    public var retired: Bool

    public init(id: String, definition: String, retired: Bool) {
        self.id = id
        self.definition = definition
        self.retired = retired
    }
}

/// Dealers changed through the admin API: at start they outrank the config file, and a retired one stays retired.
public protocol DealerDefinitions: Sendable {
    /// Every stored change, by id.
    func all() async throws(StoreUnavailable) -> [StoredDealer]
    /// Stores a dealer created or changed (a retired one is brought back).
    func put(id: String, definition: String, at now: Timestamp) async throws(StoreUnavailable)
    /// Retires a dealer, keeping its last definition.
    func retire(id: String, definition: String, at now: Timestamp) async throws(StoreUnavailable)
}
