import CallTrackCore
import CoreMetrics
import Destinations
import Logging
import PostgresSink
import Store
import Testing
import TestSupport

/// A delivery from a temp outbox to a schema of a cluster, run until the test ends.
struct DeliveryRig {
    let temp: TempStore
    let store: SQLiteStore
    let ledger: LeadLedger
    let scratch: Scratch
    let delivery: DestinationDelivery<PostgresLeadDestination>
    let log: CapturedLogs

    /// `conninfo` replaces the scratch cluster's connection string (e.g. a port where nothing listens).
    init(
        _ scratch: Scratch, password: String? = nil, user: String? = nil, batchSize: Int = 500,
        temp: TempStore? = nil, store: SQLiteStore? = nil, setup: [String] = [], statsInterval: Duration = .seconds(1),
        name: String = PostgresLeadDestination.defaultName, conninfo: String? = nil, log: CapturedLogs = CapturedLogs(level: .info)
    ) throws {
        self.scratch = scratch
        self.temp = try temp ?? TempStore()
        self.store = try store ?? self.temp.open()
        self.log = log
        ledger = LeadLedger(store: self.store, outbox: Outbox(store: self.store, topic: Outbox.leadTopic))
        let pg = PostgresConnection(conninfo ?? scratch.cluster.connectionString(user: user, password: password), setup: setup, logger: log.logger)
        // A destination seen for the first time starts at the beginning: the tests enqueue as the delivery starts.
        // The leads are enqueued at t0, months ago: kept for years, so only a test's own prune removes entries.
        delivery = DestinationDelivery(
            destination: PostgresLeadDestination(name: name, connection: pg, schema: scratch.schema, logger: log.logger), ledger: ledger,
            configuration: DeliveryConfiguration(
                batchSize: batchSize, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200),
                keepDelivered: .seconds(10 * 365 * 86_400), statsInterval: statsInterval, start: .beginning),
            logger: log.logger)
    }

    /// What waits for this rig's destination.
    func stats() async throws -> OutboxStats { try await ledger.outbox.stats(for: delivery.name) }

    /// The entries this rig's destination set aside.
    func failed() async throws -> [(entry: OutboxEntry, error: String)] { try await ledger.outbox.failed(for: delivery.name) }

    /// Stores the leads as the daemon does, each with its outbox entry; returns the entries' ids.
    @discardableResult
    func enqueue(_ leads: [Lead]) async throws -> [Int64] {
        try await ledger.store(leads, at: t0)
    }

    /// Runs the delivery around `body`, then stops it.
    func running(keepFiles: Bool = false, _ body: () async throws -> Void) async throws {
        let task = Task { [delivery] in try await delivery.run() }
        defer {
            task.cancel()
            if !keepFiles { temp.remove() }
        }
        try await body()
        task.cancel()
        try await task.value
    }
}

@Suite(.postgresCluster)
struct LeadDeliveryTests {
    @Test func leadsArriveInPostgresAndAListenerHearsEachOne() async throws {
        let scratch = try Scratch()
        let rig = try DeliveryRig(scratch)
        let listener = scratch.connection()
        try await listener.listen(scratch.schema.channel)
        let heard = Task { try await collect(listener, until: "end") }
        try await rig.running {
            let ids = try await rig.enqueue([lead(1), lead(2), lead(1, revision: 2)])
            await rig.delivery.waitUntilDone(through: ids.last!)
            let pg = scratch.connection()
            #expect(try await scratch.rows(pg, "SELECT call_id, revision FROM $schema.lead ORDER BY call_id") == [["call-1", "2"], ["call-2", "1"]])
            try await pg.query("SELECT pg_notify($1, 'end')", [scratch.schema.channel])
            // One batch: call-1 is written once, with its newest revision.
            #expect(try await heard.value.map(\.payload).sorted() == ["call-1", "call-2"])
            #expect(try await rig.stats().pending == 0)
        }
    }

    @Test func aRowPostgresRefusesIsSetAsideAndTheRestOfItsBatchDelivered() async throws {
        let scratch = try Scratch()
        let rig = try DeliveryRig(scratch)
        var changes = (1...20).map { lead($0) }
        changes[3].startedAt = Timestamp(microsecondsSinceEpoch: .min / 2)   // before 4713 BC: timestamptz refuses it
        changes[11].answeredAt = Timestamp(microsecondsSinceEpoch: .min / 2)
        changes[15].callerName = LeadText.repaired([0x4F, 0x6C, 0x67, 0xC3, 0x28, 0x00, 0x61]) // invalid UTF-8 and a NUL
        changes[16].userAgent = String(repeating: "A", count: 10_240)
        changes[17].visitorID = String(repeating: "v", count: 10_240)         // indexed: cut to fit
        changes[18].callID = String(repeating: "c", count: 10_240)            // the key, never cut: too long for a NOTIFY (8,000 bytes), set aside
        try await rig.running {
            let ids = try await rig.enqueue(changes)
            await rig.delivery.waitUntilDone(through: ids.last!)
            let pg = scratch.connection()
            let stored = try await scratch.rows(pg, "SELECT call_id FROM $schema.lead ORDER BY started_at").map { $0[0]! }
            let refused = ["call-4", "call-12", changes[18].callID]
            #expect(stored == changes.map(\.callID).filter { !refused.contains($0) })
            let failed = try await rig.failed()
            #expect(Set(failed.map(\.entry.key)) == Set(refused))
            #expect(failed.allSatisfy { $0.error.contains("SQLSTATE") })
            #expect(rig.delivery.progress.failed == 3 && rig.delivery.progress.delivered == 17)
            let visitor = try await scratch.rows(pg, "SELECT octet_length(visitor_id) FROM $schema.lead WHERE call_id = 'call-18'")
            #expect(visitor == [[String(Lead.PostgresLimits.text)]])
            let odd = try await scratch.rows(pg, "SELECT caller_name, octet_length(user_agent) FROM $schema.lead WHERE call_id IN ('call-16', 'call-17') ORDER BY call_id")
            #expect(odd == [["Olg\u{FFFD}(a", "11"], ["Ivan", String(Lead.PostgresLimits.userAgent)]])
        }
    }

    @Test func aWrongPasswordIsLoggedClearlyAndDeliveryResumesOnceFixed() async throws {
        let scratch = try Scratch()
        let admin = scratch.connection()
        let role = "app_" + scratch.schema.name
        try await scratch.createLoginRole(role, password: "old-password", with: admin)
        let rig = try DeliveryRig(scratch, password: "new-password", user: role)
        try await rig.running {
            let ids = try await rig.enqueue([lead(1), lead(2)])
            #expect(await rig.log.waitFor("paused"))
            let paused = rig.log.lines.filter { $0.contains("paused") }
            #expect(paused.count == 1, "one line for the outage, not one per retry")
            #expect(paused.first?.contains("refused the password") == true)
            #expect(try await rig.stats().pending == 2, "the leads wait in the outbox")
            try await admin.execute("ALTER ROLE \(role) PASSWORD 'new-password'")
            await rig.delivery.waitUntilDone(through: ids.last!)
            #expect(try await scratch.rows(admin, "SELECT count(*) FROM $schema.lead") == [["2"]])
            #expect(rig.log.lines.filter { $0.contains("resumed") }.count == 1)
        }
    }

    @Test func leadsLeftInTheOutboxAtShutdownAreDeliveredByTheNextStart() async throws {
        let scratch = try Scratch()
        let temp = try TempStore()
        defer { temp.remove() }
        // First run: PostgreSQL refuses (wrong password) until the daemon stops.
        let first = try DeliveryRig(scratch, password: "wrong", temp: temp)
        var ids: [Int64] = []
        try await first.running(keepFiles: true) {
            ids = try await first.enqueue((1...30).map { lead($0) })
            #expect(await first.log.waitFor("paused"))
        }
        #expect(first.delivery.progress.delivered == 0)
        // Next start, same state file, right password.
        let second = try DeliveryRig(scratch, temp: temp)
        try await second.running {
            await second.delivery.waitUntilDone(through: ids.last!)
            let stored = try await scratch.rows(scratch.connection(), "SELECT count(*) FROM $schema.lead")
            let pending = try await second.stats().pending
            #expect(stored == [["30"]] && pending == 0)
        }
    }

    @Test func aStuckPostgresTimesOutIsLoggedAndDeliveryResumes() async throws {
        let scratch = try Scratch()
        let rig = try DeliveryRig(scratch, setup: ["SET statement_timeout = 300"])
        let blocker = scratch.connection()
        try await rig.running {
            // Schema in place, then a DBA's transaction holds the lead table.
            let first = try await rig.enqueue([lead(1)])
            await rig.delivery.waitUntilDone(through: first.last!)
            let schema = scratch.schema
            let held = Task {
                try await blocker.withSession { session throws(PostgresError) in
                    try session.execute("BEGIN; LOCK TABLE \(schema.qualified("lead")) IN ACCESS EXCLUSIVE MODE")
                }
            }
            try await held.value
            let ids = try await rig.enqueue([lead(2), lead(3)])
            #expect(await rig.log.waitFor("paused"))
            #expect(rig.log.lines.contains { $0.contains("paused") && $0.contains("57014") }, "statement timeout")
            try await blocker.execute("COMMIT")
            await rig.delivery.waitUntilDone(through: ids.last!)
            let stored = try await scratch.rows(blocker, "SELECT count(*) FROM $schema.lead")
            #expect(stored == [["3"]])
            #expect(rig.log.lines.filter { $0.contains("resumed") }.count == 1)
        }
    }

    @Test func outboxDepthAndAgeAreMeasuredDuringAnOutage() async throws {
        let scratch = try Scratch()
        let metrics = RecordingMetrics()
        let admin = scratch.connection()
        let role = "app_" + scratch.schema.name
        try await scratch.createLoginRole(role, password: "old", with: admin)
        let rig = try withMetricsFactory(metrics) {
            try DeliveryRig(scratch, password: "new", user: role, statsInterval: .zero)
        }
        try await rig.running {
            let ids = try await rig.enqueue((1...5).map { lead($0) })
            await metrics.waitFor("calltrackd_outbox_depth", [("topic", "lead"), ("destination", "postgres")], 5)
            #expect(metrics.value("calltrackd_destination_up", [("destination", "postgres")]) == 0)
            #expect(metrics.value("calltrackd_outbox_oldest_age_seconds", [("topic", "lead"), ("destination", "postgres")]) != nil)
            try await admin.execute("ALTER ROLE \(role) PASSWORD 'new'")
            await rig.delivery.waitUntilDone(through: ids.last!)
            await metrics.waitFor("calltrackd_outbox_depth", [("topic", "lead"), ("destination", "postgres")], 0)
            #expect(metrics.value("calltrackd_leads_delivered_total", [("destination", "postgres")]) == 5)
            #expect(metrics.value("calltrackd_destination_up", [("destination", "postgres")]) == 1)
        }
    }
}
