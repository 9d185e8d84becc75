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
    static func plan(_ sql: String, in store: SQLiteStore) async throws -> String {
        try await store.database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: " | ")
        }
    }

    @Test("a visitor's previous number is found through the session index; no lease index by visitor is written")
    func previousNumber() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let plan = try await Self.plan("""
            SELECT lease.number FROM session JOIN lease ON lease.session_id = session.id
            WHERE session.visitor_id = 'v' AND session.site_id = 'acme' ORDER BY lease.started_at DESC LIMIT 1
            """, in: store)
        #expect(plan.contains("session_by_visitor"), "\(plan)")
        #expect(!plan.contains("SCAN"), "\(plan)")
        let indexes = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lease'")
        }
        #expect(!indexes.contains("lease_by_visitor"))
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
