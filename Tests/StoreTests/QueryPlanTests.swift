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

    @Test("the pool statistics by the hour find a pool's rolled hours and edge minutes by the primary key")
    func poolStatisticsByTheHour() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        for sql in [PoolStatisticsStore.hoursSQL, PoolStatisticsStore.edgeSQL] {
            let plan = try await Self.plan(sql, arguments: ["main", 0, 1], in: store)
            #expect(plan.contains("PRIMARY KEY (pool_id=?"), "\(plan)")
            #expect(!plan.contains("SCAN"), "\(plan)")
        }
        let hours = try await Self.plan(PoolStatisticsStore.hoursSQL, arguments: ["main", 0, 1], in: store)
        #expect(!hours.contains("TEMP B-TREE"), "the key gives the order: \(hours)")
    }

    @Test("the outbox's prune walks the ids up to the slowest cursor and probes the set-aside entries by index; the failed count reads its destination's keys")
    func outboxPruneAndFailedEntries() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let count = try await Self.plan(Outbox.failedCountSQL, arguments: ["postgres"], in: store)
        #expect(count.contains("PRIMARY KEY") && !count.contains("SCAN"), "\(count)")
        let prune = try await Self.plan(Outbox.pruneSQL, arguments: ["lead", "lead", 1], in: store)
        #expect(prune.contains("SEARCH outbox USING INTEGER PRIMARY KEY (rowid<?)"), "\(prune)")
        #expect(prune.contains("outbox_failure_by_entry") && !prune.contains("SCAN outbox_failure"), "\(prune)")
    }
}

@Suite("Lead verdicts in SQLite: repeats found by index, migrated from the payloads")
struct LeadVerdictTests {
    @Test("the repeats of a lead that turned junk, and the start-up check for junk with repeats, go through the repeat_of index")
    func repeatsUseTheIndex() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let repeats = try await QueryPlanTests.plan(LeadLedger.repeatsSQL, arguments: ["c1"], in: store)
        #expect(repeats.contains("lead_by_repeat_of") && !repeats.contains("SCAN"), "\(repeats)")
        let junk = try await QueryPlanTests.plan(LeadLedger.junkWithRepeatsSQL, arguments: [10], in: store)
        #expect(junk.contains("lead_by_repeat_of"), "only leads that repeat another are read: \(junk)")
    }

    @Test("leads stored before v12 have their repeat_of and junk reason as columns after it")
    func verdictColumnsFromPayloads() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try Schema.migrator().migrate(old, upTo: "v11-sessions-keyed-by-id")
            try await old.write { db in
                for (id, isLead, payload) in [
                    ("a", 0, #"{"callID":"a","junkReason":"short_talk","isLead":false}"#),
                    ("b", 0, #"{"callID":"b","isLead":false,"repeatOf":"a"}"#),
                    ("c", 1, "not json"),
                ] {
                    try db.execute(sql: """
                        INSERT INTO lead (call_id, revision, site_id, started_at, is_lead, match_kind, payload, updated_at)
                        VALUES (?, 3, 'acme', 0, ?, 'exact', ?, 0)
                        """, arguments: [id, isLead, payload])
                }
            }
        }
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        #expect(try await ledger.lead("a")?.leadCall.junkReason == .shortTalk)
        #expect(try await ledger.lead("b")?.leadCall.repeatOf == "a")
        #expect(try await ledger.lead("c").map { $0.leadCall.repeatOf == nil && $0.leadCall.junkReason == nil } == true, "an unreadable payload: no verdict")
        #expect(try await ledger.junkWithRepeats() == ["a"], "the start-up repair finds the repeat of junk an older daemon left")
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

@Suite("Migration v11: sessions keyed by id")
struct SessionKeyMigrationTests {
    @Test("sessions stored before v11 are all there after it, the upgrade says so first, and the kind is still checked")
    func sessionsSurvive() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try Schema.migrator().migrate(old, upTo: "v10-lease-keyed-by-time")
            try await old.write { db in
                for (index, session) in ["s1", "s2"].enumerated() {
                    try db.execute(sql: """
                        INSERT INTO session (id, visitor_id, site_id, started_at, last_activity_at, utm_source, channel,
                            user_agent, number, kind)
                        VALUES (?, 'v1', 'acme', ?, ?, 'google', 'paid_search', 'Mozilla/5.0', ?, 'pool')
                        """, arguments: [session, SQLiteStoreTests.t0.microsecondsSinceEpoch + Int64(index),
                                         SQLiteStoreTests.t0.microsecondsSinceEpoch + Int64(index), SQLiteStoreTests.number(index).e164])
                }
            }
        }
        let logs = CapturedLogs()
        let store = try SQLiteStore(path: path, logger: logs.logger)
        let writer = Task { await store.run() }
        defer { writer.cancel() }

        let announced = try #require(logs.all.first { $0.message.contains("rebuilding the session table") })
        #expect(announced.level == .notice && announced.metadata["sessions"] == "2")
        let second = try #require(try await store.session("s2"))
        #expect(second.visitorID == "v1" && second.source.utmSource == "google" && second.number == SQLiteStoreTests.number(1))
        #expect(second.userAgent == "Mozilla/5.0" && second.kind == .pool)
        #expect(try await store.count("session") == 2)

        let table = try await store.database.read { db in
            (try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'session'") ?? "",
             try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'session'"))
        }
        #expect(table.0.contains("WITHOUT ROWID"))
        #expect(table.1 == ["session_by_visitor"], "no index from id to rowid any more: \(table.1)")
        await #expect(throws: DatabaseError.self, "a kind outside pool/static/fallback is refused") {
            try await store.database.write { db in
                try db.execute(sql: """
                    INSERT INTO session (id, visitor_id, site_id, started_at, last_activity_at, channel, number, kind)
                    VALUES ('s3', 'v1', 'acme', 0, 0, 'direct', '+74950000000', 'borrowed')
                    """)
            }
        }

        let reopened = CapturedLogs()
        _ = try SQLiteStore(path: dir.file("state.sqlite"), logger: reopened.logger)
        #expect(!reopened.all.contains { $0.message.contains("rebuilding") }, "announced once, when it runs")
    }
}
