import CallTrackCore
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// A store an older daemon left — an outbox whose rows carry their PostgreSQL delivery state — upgraded to a log
/// with a cursor per destination: what waited for PostgreSQL still waits for the destination `postgres`, in
/// order, and what it set aside stays set aside with its error.
@Suite("Migration v15: the outbox as a log, a cursor per destination")
struct OutboxCursorMigrationTests {
    static let enqueued: Int64 = 1_800_000_000_000_000

    /// A database as v14 left it, with these outbox rows (key, state, error) in id order.
    static func olderStore(at path: String, _ rows: [(key: String, state: String, error: String?)], prunedFirst: Bool = false) throws {
        let old = try DatabaseQueue(path: path)
        try Schema.migrator().migrate(old, upTo: "v14-outbox-references")
        try old.write { db in
            if prunedFirst {
                // A delivered entry pruned already: its id is not reused.
                try db.execute(sql: "INSERT INTO outbox (topic, key, revision, enqueued_at, state) VALUES ('lead', 'call-0', 1, 0, 'delivered')")
                try db.execute(sql: "DELETE FROM outbox WHERE key = 'call-0'")
            }
            for (offset, row) in rows.enumerated() {
                let revision: Int64? = row.key.hasPrefix("merge:") ? nil : 1
                try db.execute(sql: """
                    INSERT INTO outbox (topic, key, revision, enqueued_at, state, done_at, last_error) VALUES ('lead', ?, ?, ?, ?, ?, ?)
                    """, arguments: [row.key, revision, enqueued + Int64(offset), row.state,
                                     row.state == "pending" ? nil : enqueued + 1_000_000, row.error])
            }
        }
        try old.close()
    }

    @Test("every entry pending for PostgreSQL is still pending for the destination postgres, in order; every failure is kept")
    func pendingAndFailedSurvive() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        try Self.olderStore(at: path, [
            ("call-1", "delivered", nil), ("call-2", "failed", "PostgreSQL rejected a value [SQLSTATE 22008]"), ("call-3", "delivered", nil),
            ("call-4", "pending", nil), ("merge:v2", "pending", nil), ("call-1", "pending", nil), ("call-5", "failed", "too long"),
        ], prunedFirst: true)
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let outbox = Outbox(store: store, topic: Outbox.leadTopic)

        #expect(try await outbox.cursors() == ["postgres": 4], "just below the oldest pending entry")
        let pending = try await outbox.pending(for: "postgres")
        #expect(pending.map(\.key) == ["call-4", "merge:v2", "call-1", "call-5"])
        #expect(pending.map(\.id) == [5, 6, 7, 8] && pending.map(\.revision) == [1, nil, 1, 1])
        #expect(pending.first?.enqueuedAt == Timestamp(microsecondsSinceEpoch: Self.enqueued + 3))
        let failed = try await outbox.failed(for: "postgres")
        #expect(failed.map(\.entry.key) == ["call-5", "call-2"])
        #expect(failed.map(\.error) == ["too long", "PostgreSQL rejected a value [SQLSTATE 22008]"])
        let stats = try await outbox.stats(for: "postgres")
        #expect(stats.pending == 4 && stats.failed == 2)
        // The PostgreSQL delivery registers under its name and resumes there, whatever its start for new destinations.
        #expect(try await outbox.register("postgres", from: .newest, at: Timestamp(microsecondsSinceEpoch: Self.enqueued)) == 4)
        // Ids go on from the old sequence: the pruned id 1 and the rows kept are never given out again.
        #expect(try await outbox.enqueue([(key: "call-6", revision: 1)], at: Timestamp(microsecondsSinceEpoch: Self.enqueued)) == [9])
        // The old state columns are gone: the log holds what changed, nothing about any destination.
        let columns = try await store.database.read { db in try db.columns(in: "outbox").map(\.name) }
        #expect(columns == ["id", "topic", "key", "revision", "enqueued_at"])
    }

    @Test("with nothing pending the cursor sits at the newest entry; an empty outbox registers no destination")
    func nothingPending() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try Self.olderStore(at: dir.file("done.sqlite"), [("call-1", "delivered", nil), ("call-2", "failed", "bad"), ("call-3", "delivered", nil)])
        let done = Outbox(store: try SQLiteStore(path: dir.file("done.sqlite"), logger: Logger(label: "test")), topic: Outbox.leadTopic)
        #expect(try await done.cursors() == ["postgres": 3])
        #expect(try await done.pending(for: "postgres").isEmpty)
        #expect(try await done.failed(for: "postgres").map(\.entry.key) == ["call-2"])

        try Self.olderStore(at: dir.file("empty.sqlite"), [])
        let empty = Outbox(store: try SQLiteStore(path: dir.file("empty.sqlite"), logger: Logger(label: "test")), topic: Outbox.leadTopic)
        #expect(try await empty.cursors().isEmpty)
    }
}
