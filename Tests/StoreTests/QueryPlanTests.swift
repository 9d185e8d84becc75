import CallTrackCore
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// Queries that run per allocation or per lead must find their rows through an index: a scan grows with
/// every session and every delivered lead kept, and shows as latency weeks later.
@Suite("SQLite query plans of the hot queries")
struct QueryPlanTests {
    static func plan(_ sql: String, arguments: StatementArguments = [], in store: SQLiteStore) async throws -> String {
        try await store.database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }.joined(separator: " | ")
        }
    }

    @Test("a visitor's previous number is found through the session index; leases are written in time order, with no index by visitor or session")
    func previousNumber() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let plan = try await Self.plan(SQLiteStore.previousNumberSQL, arguments: ["v", "acme"], in: store)
        #expect(plan.contains("session_by_visitor"), "\(plan)")
        #expect(!plan.contains("SCAN"), "\(plan)")
        #expect(!plan.contains("TEMP B-TREE"), "the index gives the order: \(plan)")
        let indexes = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lease'")
        }
        #expect(indexes.filter { !$0.hasPrefix("sqlite_autoindex") } == ["lease_by_number"])
        let key = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('lease') WHERE pk > 0 ORDER BY pk")
        }
        #expect(key == ["started_at", "session_id", "number"], "a new lease goes at the end of the table")
    }

    @Test("the outbox's failed count and set-aside listing use the index of done entries, not a scan of every delivered lead")
    func outboxFailedEntries() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let count = try await Self.plan(Outbox.failedCount.replacingOccurrences(of: "?", with: "'lead'"), in: store)
        #expect(count.contains("outbox_done") && !count.contains("SCAN"), "\(count)")
        let prune = try await Self.plan(
            Outbox.pruneDelivered.replacingOccurrences(of: "topic = ?", with: "topic = 'lead'").replacingOccurrences(of: "?", with: "1"), in: store)
        #expect(prune.contains("outbox_done") && !prune.contains("SCAN"), "\(prune)")
    }
}

@Suite("Migration v10: leases keyed by time")
struct LeaseKeyMigrationTests {
    @Test("leases stored before v10 are all there after it, and touches still update them")
    func leasesSurvive() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try Schema.migrator().migrate(old, upTo: "v9-no-lease-by-visitor")
            try await old.write { db in
                for (index, session) in ["s1", "s2"].enumerated() {
                    try db.execute(sql: """
                        INSERT INTO lease (pool_id, number, session_id, visitor_id, started_at, last_activity_at, expires_at, shared)
                        VALUES ('main', ?, ?, 'v1', ?, ?, ?, 0)
                        """, arguments: [SQLiteStoreTests.number(index).e164, session,
                                         SQLiteStoreTests.t0.microsecondsSinceEpoch, SQLiteStoreTests.t0.microsecondsSinceEpoch,
                                         (SQLiteStoreTests.t0 + .seconds(600)).microsecondsSinceEpoch])
                }
            }
        }
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let window = (SQLiteStoreTests.t0, SQLiteStoreTests.t0 + .seconds(3600))
        var lease = try #require(try await store.leases(on: SQLiteStoreTests.number(1), from: window.0, to: window.1).first)
        #expect(lease.sessionID == "s2")
        #expect(try await store.count("lease") == 2)

        lease.lastActivityAt = SQLiteStoreTests.t0 + .seconds(300)
        lease.expiresAt = SQLiteStoreTests.t0 + .seconds(900)
        try await store.apply([.lease(lease)])
        #expect(try await store.leases(on: SQLiteStoreTests.number(1), from: window.0, to: window.1) == [lease])
        #expect(try await store.count("lease") == 2, "a touch updates its lease, it does not add one")
    }
}
