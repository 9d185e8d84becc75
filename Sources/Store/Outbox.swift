import CallTrackCore
import GRDB
import Synchronization

/// A durable, ordered log of changes in the state database: that something changed (a lead, by its call id and
/// revision; a merge, by `merge:<visitor>`) is committed here with the change, in id order. Each destination that
/// delivers the changes (PostgreSQL, and later webhooks and analytics) reads the log at its own pace through its
/// own cursor: every entry up to the cursor is delivered or set aside (with its error, for an operator) for that
/// destination. A slow destination holds back no other; an entry is pruned only once every registered destination
/// has passed it and it is older than the keep period, and never while a destination keeps it set aside.
///
/// ```swift
/// let outbox = Outbox(store: store, topic: "lead")                 // one instance per topic, shared
/// try await outbox.enqueue([(key: "call-1", revision: 3)], at: clock.now())
/// var cursor = try await outbox.register("postgres", from: .newest, at: clock.now())
/// let batch = try await outbox.entries(after: cursor, limit: 500)  // oldest first
/// try await outbox.advance("postgres", through: batch.last!.id, setAside: [], at: clock.now())
/// ```
public final class Outbox: Sendable {
    let database: DatabasePool
    public let topic: String
    private let doorbell: OutboxDoorbell

    /// The topic of lead changes and of the visitor merges delivered with them (keys `merge:<visitor>`).
    public static let leadTopic = "lead"

    public typealias Start = DeliveryStart

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

    /// Wakes the delivery loops: entries up to `id` were committed (here or with other rows, by `LeadLedger`).
    func ring(newest id: Int64) { doorbell.ring(newest: id) }

    // MARK: - Destinations and their cursors

    /// Registers a destination of this topic (once; later calls change nothing) and returns its cursor: every
    /// entry up to it is done for the destination. A new destination starts at `start`.
    public func register(_ destination: String, from start: Start, at now: Timestamp) async throws(StoreUnavailable) -> Int64 {
        let topic = self.topic
        return try await write { db in
            if let known = try Int64.fetchOne(db, sql: "SELECT delivered_through FROM outbox_cursor WHERE destination = ?",
                                              arguments: [destination]) {
                return known
            }
            let position: Int64 = switch start {
            case .newest: try Int64.fetchOne(db, sql: "SELECT max(id) FROM outbox WHERE topic = ?", arguments: [topic]) ?? 0
            case .beginning: 0
            }
            try db.execute(sql: """
                INSERT INTO outbox_cursor (destination, topic, delivered_through, updated_at) VALUES (?, ?, ?, ?)
                """, arguments: [destination, topic, position, now.microsecondsSinceEpoch])
            return position
        }
    }

    /// Removes a destination that is no longer configured, with its set-aside entries: it holds back pruning no more.
    public func unregister(_ destination: String) async throws(StoreUnavailable) {
        try await write { db in
            try db.execute(sql: "DELETE FROM outbox_cursor WHERE destination = ?", arguments: [destination])
            try db.execute(sql: "DELETE FROM outbox_failure WHERE destination = ?", arguments: [destination])
        }
    }

    /// The destinations of this topic and their cursors, by name.
    public func cursors() async throws(StoreUnavailable) -> [String: Int64] {
        let topic = self.topic
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT destination, delivered_through FROM outbox_cursor WHERE topic = ?", arguments: [topic])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["destination"], $0["delivered_through"]) })
        }
    }

    /// Entries with an id above `after`, oldest first: what a destination at that cursor has still to deliver.
    public func entries(after id: Int64, limit: Int) async throws(StoreUnavailable) -> [OutboxEntry] {
        // On the reader pool, never on an event loop: the delivery loops run there.
        let topic = self.topic
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, key, revision, enqueued_at FROM outbox WHERE id > ? AND topic = ? ORDER BY id LIMIT ?
                """), arguments: [id, topic, limit]).map(Self.entry)
        }
    }

    /// The entries a destination has still to deliver, oldest first (none for a destination never registered).
    public func pending(for destination: String, limit: Int = 100) async throws(StoreUnavailable) -> [OutboxEntry] {
        let topic = self.topic
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, key, revision, enqueued_at FROM outbox
                WHERE id > (SELECT delivered_through FROM outbox_cursor WHERE destination = ?) AND topic = ? ORDER BY id LIMIT ?
                """, arguments: [destination, topic, limit]).map(Self.entry)
        }
    }

    /// Moves a destination's cursor up to `through` and records the entries it set aside — one transaction, so a
    /// restart neither delivers a batch again nor loses a set-aside entry. A cursor never moves back.
    public func advance(
        _ destination: String, through id: Int64, setAside: [(id: Int64, error: String)], at now: Timestamp
    ) async throws(StoreUnavailable) {
        try await write { db in
            for failure in setAside {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO outbox_failure (destination, outbox_id, error, failed_at) VALUES (?, ?, ?, ?)
                    """, arguments: [destination, failure.id, failure.error, now.microsecondsSinceEpoch])
            }
            try db.execute(sql: """
                UPDATE outbox_cursor SET delivered_through = max(delivered_through, ?), updated_at = ? WHERE destination = ?
                """, arguments: [id, now.microsecondsSinceEpoch, destination])
        }
    }

    /// Sends a destination the changes enqueued at or after `since` again (`calltrackd webhooks replay`): its cursor
    /// moves back to just before the first of them (never forward), and its set-aside entries from there on are
    /// no longer set aside, so they go again too. Only entries still in the log can go again (pruned ones are gone;
    /// set-aside ones are never pruned). Returns how many entries wait for it now; nil for a destination never
    /// registered. Run while the daemon is stopped: a running delivery keeps its cursor in memory.
    public func rewind(_ destination: String, since: Timestamp, at now: Timestamp) async throws(StoreUnavailable) -> Int? {
        let topic = self.topic
        return try await write { db in
            guard let cursor = try Int64.fetchOne(db, sql: "SELECT delivered_through FROM outbox_cursor WHERE destination = ?",
                                                  arguments: [destination]) else { return nil }
            let first = try Int64.fetchOne(db, sql: "SELECT min(id) FROM outbox WHERE topic = ? AND enqueued_at >= ?",
                                           arguments: [topic, since.microsecondsSinceEpoch])
            let position = min(cursor, (first ?? (cursor + 1)) - 1)
            try db.execute(sql: "UPDATE outbox_cursor SET delivered_through = ?, updated_at = ? WHERE destination = ?",
                           arguments: [position, now.microsecondsSinceEpoch, destination])
            try db.execute(sql: "DELETE FROM outbox_failure WHERE destination = ? AND outbox_id > ?", arguments: [destination, position])
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE id > ? AND topic = ?", arguments: [position, topic]) ?? 0
        }
    }

    /// Removes entries older than `cutoff` that every registered destination of this topic has passed and none
    /// keeps set aside; returns how many. With no destination registered nothing is removed.
    @discardableResult
    public func prune(before cutoff: Timestamp) async throws(StoreUnavailable) -> Int {
        try await write { db in
            try db.execute(sql: Self.pruneSQL, arguments: [self.topic, self.topic, cutoff.microsecondsSinceEpoch])
            return db.changesCount
        }
    }

    /// Up to the slowest cursor (a rowid range), never an entry a destination set aside (an index probe each).
    static let pruneSQL = """
        DELETE FROM outbox
        WHERE id <= (SELECT min(delivered_through) FROM outbox_cursor WHERE topic = ?) AND topic = ? AND enqueued_at < ?
            AND NOT EXISTS (SELECT 1 FROM outbox_failure WHERE outbox_failure.outbox_id = outbox.id)
        """
    static let failedCountSQL = "SELECT count(*) FROM outbox_failure WHERE destination = ?"

    /// How much waits for a destination, and since when; for metrics. Zero for a destination never registered.
    public func stats(for destination: String) async throws(StoreUnavailable) -> OutboxStats {
        let topic = self.topic
        return try await read { db in
            guard let cursor = try Int64.fetchOne(db, sql: "SELECT delivered_through FROM outbox_cursor WHERE destination = ?",
                                                  arguments: [destination]) else {
                return OutboxStats(pending: 0, failed: 0, oldestPendingAt: nil)
            }
            let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE id > ? AND topic = ?", arguments: [cursor, topic]) ?? 0
            let failed = try Int.fetchOne(db, sql: Self.failedCountSQL, arguments: [destination]) ?? 0
            let oldest = try Int64.fetchOne(db, sql: """
                SELECT enqueued_at FROM outbox WHERE id > ? AND topic = ? ORDER BY id LIMIT 1
                """, arguments: [cursor, topic])
            return OutboxStats(pending: pending, failed: failed, oldestPendingAt: oldest.map(Timestamp.init(microsecondsSinceEpoch:)))
        }
    }

    /// The most entries any destination of this topic has still to deliver (the slowest one's backlog); 0 with none.
    public func depth() async throws(StoreUnavailable) -> Int {
        let topic = self.topic
        return try await read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM outbox WHERE id > (SELECT min(delivered_through) FROM outbox_cursor WHERE topic = ?) AND topic = ?
                """, arguments: [topic, topic]) ?? 0
        }
    }

    /// The newest entry of each key, newest first, whether delivered anywhere or not.
    public func latestPerKey(limit: Int = 100) async throws(StoreUnavailable) -> [OutboxEntry] {
        let topic = self.topic
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, key, revision, enqueued_at FROM outbox
                WHERE id IN (SELECT max(id) FROM outbox WHERE topic = ? GROUP BY key) ORDER BY id DESC LIMIT ?
                """, arguments: [topic, limit]).map(Self.entry)
        }
    }

    /// Entries a destination set aside, newest first, with their errors.
    public func failed(for destination: String, limit: Int = 100) async throws(StoreUnavailable) -> [(entry: OutboxEntry, error: String)] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.id, o.key, o.revision, o.enqueued_at, f.error FROM outbox_failure f JOIN outbox o ON o.id = f.outbox_id
                WHERE f.destination = ? ORDER BY f.outbox_id DESC LIMIT ?
                """, arguments: [destination, limit]).map { row in (Self.entry(row), row["error"] ?? "") }
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
