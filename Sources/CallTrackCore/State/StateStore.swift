/// One change to durable state, applied with others in one transaction.
public enum StateWrite: Hashable, Sendable {
    /// Insert or update a session (last activity, current number).
    case session(SessionRecord)
    /// Insert a new lease or update a live one (touch), keyed by session, number and start.
    case lease(Lease)
    /// A site's definition; `fromAdmin` when changed through the admin API, which then outranks
    /// the config file at the next start.
    case site(Site, fromAdmin: Bool)
    /// A site retired through the admin API: it stops being served, and the config file does not bring it back.
    case siteRetired(Site)
    /// A call as last seen; an older revision never overwrites a newer one.
    case call(CallRecord)
    /// An identifier seen with a visitor. Already linked to another person: the two merge (the first owner survives).
    case link(VisitorIdentifier, to: VisitorID, at: Timestamp)
}

/// A site as the store last saw it.
public struct StoredSite: Sendable {
    public var site: Site
    /// The admin API changed it last: it outranks the config file.
    public var fromAdmin: Bool
    public var retired: Bool

    public init(site: Site, fromAdmin: Bool, retired: Bool = false) {
        self.site = site
        self.fromAdmin = fromAdmin
        self.retired = retired
    }
}

/// What the pool needs back after a restart.
public struct PoolRecovery: Sendable {
    public var liveLeases: [Lease]
    public var lastReleases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)]

    public init(liveLeases: [Lease], lastReleases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)]) {
        self.liveLeases = liveLeases
        self.lastReleases = lastReleases
    }
}

/// Why the store could not do what was asked; the API answers 503 with `description`.
public struct StoreUnavailable: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The durable state behind the lease book: SQLite by default, PostgreSQL when several daemons share it.
///
/// `apply` returns only once the writes are durable; an implementation may group writes of
/// concurrent callers into one transaction (group commit).
public protocol StateStore: Sendable {
    /// The store's own work (its writer, checkpoints) until the task is cancelled; queued writes are committed first.
    func run() async
    /// On the caller's executor (no hop to the generic one): called on every allocation.
    nonisolated(nonsending) func apply(_ writes: [StateWrite]) async throws(StoreUnavailable)
    func session(_ id: SessionID) async throws(StoreUnavailable) -> SessionRecord?
    /// The number a visitor held last, for stickiness.
    /// Called on every allocation, on the caller's executor; an implementation does its I/O off it (SQLite reads on
    /// its reader threads), as the caller is an event loop serving HTTP.
    nonisolated(nonsending) func previousNumber(of visitor: VisitorID, site: String) async throws(StoreUnavailable) -> PhoneNumber?
    func recovery(pool: String, numbers: [PhoneNumber], at now: Timestamp, cooldown: Duration) async throws(StoreUnavailable) -> PoolRecovery
    /// Leases on `number` that overlap [from, to], newest first: the candidates for a call.
    func leases(on number: PhoneNumber, from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [Lease]
    /// Calls, newest first.
    func recentCalls(limit: Int) async throws(StoreUnavailable) -> [CallRecord]
    /// Stored site definitions, with whether the admin API changed them last and whether it retired them.
    func sites() async throws(StoreUnavailable) -> [StoredSite]
}
