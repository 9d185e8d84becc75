import CallTrackCore
import GRDB
import Synchronization

/// A durable, ordered outbox in the state database: that something changed (a lead, by its call id and
/// revision; a merge, by `merge:<visitor>`) is committed here with the change, and a delivery service (the
/// PostgreSQL lead drain) reads what changed and sends it on later, in id order. Delivered rows are marked
/// and pruned after a while; a row is never removed before it was delivered or set aside as failed (with
/// its error, for an operator).
///
/// ```swift
/// let outbox = Outbox(store: store, topic: "lead")         // one instance per topic, shared
/// try await outbox.enqueue([(key: "call-1", revision: 3)], at: clock.now())
/// let batch = try await outbox.pending(after: 0, limit: 500)  // oldest first
/// try await outbox.markDelivered(after: 0, through: batch.last!.id, at: clock.now())
/// ```
public final class Outbox: Sendable {
    let database: DatabasePool
    public let topic: String
    private let doorbell: OutboxDoorbell

    /// The topic of lead changes and of the visitor merges delivered with them (keys `merge:<visitor>`).
    public static let leadTopic = "lead"

    public init(store: SQLiteStore, topic: String) {
        self.database = store.database
        self.topic = topic
        self.doorbell = store.outboxDoorbell
    }

    /// Commits the entries (durably, in one transaction) and returns their ids, in order.
    @discardableResult
    public func enqueue(_ entries: [(key: String, revision: Int64?)], at now: Timestamp) async throws(StoreUnavailable) -> [Int64] {
        guard !entries.isEmpty else { return [] }
        let topic = self.topic
        let ids: [Int64]
        do {
            ids = try await database.write { db in
                try entries.map { entry in try Self.insert(topic: topic, key: entry.key, revision: entry.revision, at: now, db) }
            }
        } catch {
            throw StoreUnavailable("cannot write to the outbox: \(SQLiteStore.explain(error))")
        }
        if let last = ids.last { ring(newest: last) }
        return ids
    }

    /// Adds one entry inside the caller's transaction (a lead or a merge with the rows it belongs to); returns its id.
    static func insert(topic: String, key: String, revision: Int64?, at now: Timestamp, _ db: Database) throws -> Int64 {
        try db.cachedStatement(sql: "INSERT INTO outbox (topic, key, revision, enqueued_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [topic, key, revision, now.microsecondsSinceEpoch])
        return db.lastInsertedRowID
    }

    /// Wakes the delivery loop: entries up to `id` were committed (here or with other rows, by `LeadLedger`).
    func ring(newest id: Int64) { doorbell.ring(newest: id) }

    /// Pending entries with an id above `after`, oldest first.
    public func pending(after id: Int64, limit: Int) async throws(StoreUnavailable) -> [OutboxEntry] {
        // One statement, on the caller's thread: the delivery loop asks after every lead.
        try database.readNow("cannot read the outbox") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, key, revision, enqueued_at FROM outbox
                WHERE topic = ? AND state = 'pending' AND id > ? ORDER BY id LIMIT ?
                """), arguments: [topic, id, limit]).map(Self.entry)
        }
    }

    /// Marks every pending entry with an id in `(after, through]` delivered.
    public func markDelivered(after: Int64, through: Int64, at now: Timestamp) async throws(StoreUnavailable) {
        try await write { db in
            try db.execute(sql: """
                UPDATE outbox SET state = 'delivered', done_at = ?
                WHERE topic = ? AND state = 'pending' AND id > ? AND id <= ?
                """, arguments: [now.microsecondsSinceEpoch, self.topic, after, through])
        }
    }

    /// Sets an entry aside: it will not be delivered again; `error` says why, for an operator.
    public func markFailed(_ id: Int64, error: String, at now: Timestamp) async throws(StoreUnavailable) {
        try await write { db in
            try db.execute(sql: """
                UPDATE outbox SET state = 'failed', done_at = ?, last_error = ? WHERE id = ? AND state = 'pending'
                """, arguments: [now.microsecondsSinceEpoch, error, id])
        }
    }

    /// Removes entries delivered before `cutoff`; returns how many. Failed entries stay.
    @discardableResult
    public func prune(deliveredBefore cutoff: Timestamp) async throws(StoreUnavailable) -> Int {
        try await write { db in
            try db.execute(sql: Self.pruneDelivered,
                           arguments: [self.topic, cutoff.microsecondsSinceEpoch])
            return db.changesCount
        }
    }

    static let pruneDelivered = "DELETE FROM outbox WHERE topic = ? AND state = 'delivered' AND state <> 'pending' AND done_at < ?"
    static let failedCount = "SELECT count(*) FROM outbox WHERE topic = ? AND state = 'failed' AND state <> 'pending'"

    /// How much waits, and since when; for metrics.
    public func stats() async throws(StoreUnavailable) -> OutboxStats {
        let topic = self.topic
        return try await read { db in
            let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE topic = ? AND state = 'pending'", arguments: [topic]) ?? 0
            // `state <> 'pending'` lets SQLite use the partial index outbox_done: it does not infer it from
            // `state = 'failed'`, and without it this count scanned every delivered lead ever kept.
            let failed = try Int.fetchOne(db, sql: Self.failedCount, arguments: [topic]) ?? 0
            let oldest = try Int64.fetchOne(db, sql: """
                SELECT enqueued_at FROM outbox WHERE topic = ? AND state = 'pending' ORDER BY id LIMIT 1
                """, arguments: [topic])
            return OutboxStats(pending: pending, failed: failed, oldestPendingAt: oldest.map(Timestamp.init(microsecondsSinceEpoch:)))
        }
    }

    /// The newest entry of each key, newest first, whatever its state.
    public func latestPerKey(limit: Int = 100) async throws(StoreUnavailable) -> [OutboxEntry] {
        let topic = self.topic
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, key, revision, enqueued_at FROM outbox
                WHERE id IN (SELECT max(id) FROM outbox WHERE topic = ? GROUP BY key) ORDER BY id DESC LIMIT ?
                """, arguments: [topic, limit]).map(Self.entry)
        }
    }

    /// Entries set aside as failed, newest first, with their errors.
    public func failed(limit: Int = 100) async throws(StoreUnavailable) -> [(entry: OutboxEntry, error: String)] {
        let topic = self.topic
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, key, revision, enqueued_at, last_error FROM outbox
                WHERE topic = ? AND state = 'failed' AND state <> 'pending' ORDER BY id DESC LIMIT ?
                """, arguments: [topic, limit]).map { row in (Self.entry(row), row["last_error"] ?? "") }
        }
    }

    /// Returns once this process enqueued an entry with an id above `id`, or the task is cancelled.
    public func waitForEntries(after id: Int64) async { await doorbell.wait(after: id) }

    private static func entry(_ row: Row) -> OutboxEntry {
        OutboxEntry(id: row["id"], key: row["key"], revision: row["revision"],
                    enqueuedAt: Timestamp(microsecondsSinceEpoch: row["enqueued_at"]))
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.read(body) } catch {
            throw StoreUnavailable("cannot read the outbox: \(SQLiteStore.explain(error))")
        }
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.write(body) } catch {
            throw StoreUnavailable("cannot write to the outbox: \(SQLiteStore.explain(error))")
        }
    }
}

/// One change waiting in (or delivered from) the outbox.
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

public struct OutboxStats: Sendable, Hashable {
    public var pending: Int
    public var failed: Int
    public var oldestPendingAt: Timestamp?
}
