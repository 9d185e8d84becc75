import CallTrackCore
import GRDB

/// Dealers the admin API created, changed or retired, kept as their definitions' JSON (the API's shape, which this
/// store does not read): at start they outrank the config file.
public final class AdminDealers: Sendable {
    let database: DatabasePool

    public init(store: SQLiteStore) {
        database = store.database
    }

    public typealias Entry = StoredDealer

    /// Every stored change, by id.
    public func all() async throws(StoreUnavailable) -> [Entry] {
        do {
            return try await database.read { db in
                try Row.fetchAll(db, sql: "SELECT id, definition, retired_at FROM dealer ORDER BY id").map {
                    Entry(id: $0["id"], definition: $0["definition"], retired: $0["retired_at"] != nil)
                }
            }
        } catch {
            throw StoreUnavailable("cannot read the admin API's dealers: \(SQLiteStore.explain(error))")
        }
    }

    /// Stores a dealer created or changed (a retired one is brought back).
    public func put(id: String, definition: String, at now: Timestamp) async throws(StoreUnavailable) {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO dealer (id, definition, retired_at, updated_at) VALUES (?, ?, NULL, ?)
                ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, retired_at = NULL, updated_at = excluded.updated_at
                """, arguments: [id, definition, now.microsecondsSinceEpoch])
        }
    }

    /// Stores the retirement, with the definition it had.
    public func retire(id: String, definition: String, at now: Timestamp) async throws(StoreUnavailable) {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO dealer (id, definition, retired_at, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET retired_at = excluded.retired_at, updated_at = excluded.updated_at
                """, arguments: [id, definition, now.microsecondsSinceEpoch, now.microsecondsSinceEpoch])
        }
    }

    private func write(_ body: @Sendable @escaping (Database) throws -> Void) async throws(StoreUnavailable) {
        do { try await database.write(body) } catch {
            throw StoreUnavailable("cannot store the dealer: \(SQLiteStore.explain(error))")
        }
    }
}
