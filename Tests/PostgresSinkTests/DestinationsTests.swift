import CallTrackCore
import CoreMetrics
import Destinations
import PostgresSink
import Store
import Testing
import TestSupport

/// Two PostgreSQL destinations fed from one outbox, each at its own pace: one reachable, one where nothing
/// listens. The reachable one gets every lead while the other's entries wait for it; when it comes back it
/// catches up, in order per lead, and pruning never removes what it has not delivered.
@Suite(.postgresCluster)
struct DestinationsTests {
    /// 150 calls; every third is answered in a later chunk (a second revision).
    static func changes() -> [Lead] {
        var changes: [Lead] = []
        for n in 0..<150 {
            changes.append(lead(n))
            if n % 3 == 0, n >= 10 { changes.append(lead(n - 10, revision: 2)) }
        }
        return changes
    }

    /// Records every row version written to the schema's lead table, in commit order.
    static func audit(_ scratch: Scratch) async throws {
        let admin = try await scratch.migrated()
        let schema = "\"\(scratch.schema.name)\""
        try await admin.execute("""
            CREATE TABLE \(schema).audit (seq bigserial PRIMARY KEY, call_id text, revision bigint);
            CREATE FUNCTION \(schema).audit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO \(schema).audit (call_id, revision) VALUES (NEW.call_id, NEW.revision); RETURN NEW; END $$;
            CREATE TRIGGER audit AFTER INSERT OR UPDATE ON \(schema).lead FOR EACH ROW EXECUTE FUNCTION \(schema).audit();
            """)
        admin.close()
    }

    /// Every lead once, at its newest revision, and no revision of a lead written after a newer one.
    static func expectAllLeadsInOrder(_ scratch: Scratch, _ changes: [Lead], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let pg = scratch.connection()
        var newest: [String: Int64] = [:]
        for change in changes { newest[change.callID] = max(newest[change.callID] ?? 0, change.revision) }
        let stored = try await scratch.rows(pg, "SELECT call_id, revision FROM $schema.lead")
        #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0[0]!, Int64($0[1]!)!) }) == newest, sourceLocation: sourceLocation)
        var seen: [String: Int64] = [:]
        for row in try await scratch.rows(pg, "SELECT call_id, revision FROM $schema.audit ORDER BY seq") {
            let (call, revision) = (row[0]!, Int64(row[1]!)!)
            #expect(revision > (seen[call] ?? 0), "\(call) went back to revision \(revision)", sourceLocation: sourceLocation)
            seen[call] = revision
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aDeadDestinationDelaysNoOtherAndCatchesUpWhenBack() async throws {
        let (live, late) = (try Scratch(), try Scratch())
        try await Self.audit(live)
        try await Self.audit(late)
        let nowhere = TemporaryDirectory("no-postgres")   // a socket folder where no server listens
        defer { nowhere.remove() }
        let metrics = RecordingMetrics()
        let (first, dead) = try withMetricsFactory(metrics) {
            let first = try DeliveryRig(live, statsInterval: .zero, name: "crm")
            let dead = try DeliveryRig(late, temp: first.temp, store: first.store, statsInterval: .zero, name: "archive",
                                       conninfo: "host=\(nowhere.path) port=\(live.cluster.port) user=nobody connect_timeout=2")
            return (first, dead)
        }
        let changes = Self.changes()
        let deadRun = Task { [delivery = dead.delivery] in try await delivery.run() }
        var lastID: Int64 = 0
        try await first.running(keepFiles: true) {
            for start in stride(from: 0, to: changes.count, by: 40) {
                lastID = try await first.enqueue(Array(changes[start..<min(start + 40, changes.count)])).last ?? lastID
            }
            await first.delivery.waitUntilDone(through: lastID)
            try await Self.expectAllLeadsInOrder(live, changes)
            #expect(try await first.stats().pending == 0)
            // The dead one is paused, and every entry still waits for it.
            #expect(await dead.log.waitFor("paused"))
            #expect(dead.log.lines.contains { $0.contains("paused") && $0.contains("destination=archive") }, "the line names the destination")
            let waiting = try await dead.stats()
            #expect(waiting.pending == Int(lastID) && waiting.oldestPendingAt == t0)
            #expect(dead.delivery.progress.doneThrough == 0 && dead.delivery.progress.delivered == 0)
            // Per destination metrics: the live one drained and up, the dead one deep, down and retrying.
            await metrics.waitFor("calltrackd_outbox_depth", [("topic", "lead"), ("destination", "archive")], Double(lastID))
            await metrics.waitFor("calltrackd_outbox_depth", [("topic", "lead"), ("destination", "crm")], 0)
            #expect((metrics.value("calltrackd_outbox_oldest_age_seconds", [("topic", "lead"), ("destination", "archive")]) ?? 0) > 86_400,
                    "the oldest entry waiting for it was enqueued at t0, long ago")
            #expect(metrics.value("calltrackd_outbox_oldest_age_seconds", [("topic", "lead"), ("destination", "crm")]) == 0)
            #expect(metrics.value("calltrackd_leads_delivered_total", [("destination", "crm")]) == Double(lastID))
            #expect(metrics.value("calltrackd_leads_delivered_total", [("destination", "archive")]) ?? 0 == 0)
            #expect(metrics.value("calltrackd_destination_up", [("destination", "crm")]) == 1)
            #expect(metrics.value("calltrackd_destination_up", [("destination", "archive")]) == 0)
            #expect((metrics.value("calltrackd_lead_delivery_retries_total", [("destination", "archive")]) ?? 0) > 0)
            #expect(metrics.value("calltrackd_lead_delivery_retries_total", [("destination", "crm")]) ?? 0 == 0)
            // Pruning (the keep period long past) keeps every entry the dead destination has not delivered.
            #expect(try await first.ledger.outbox.prune(before: t0 + .seconds(86_400 * 365)) == 0)
            #expect(try await dead.stats().pending == Int(lastID))
        }
        deadRun.cancel()
        try await deadRun.value

        // The archive comes back (its configuration now points at a reachable server): it resumes at its cursor.
        let back = try DeliveryRig(late, temp: first.temp, store: first.store, name: "archive")
        try await back.running {
            await back.delivery.waitUntilDone(through: lastID)
            try await Self.expectAllLeadsInOrder(late, changes)
            #expect(try await back.stats().pending == 0 && back.delivery.progress.failed == 0)
            // Now both passed every entry: pruning removes them.
            #expect(try await back.ledger.outbox.prune(before: t0 + .seconds(86_400 * 365)) == Int(lastID))
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aValueOneDestinationRefusesIsSetAsideForItAloneAndKeptThroughPruning() async throws {
        let (strict, lenient) = (try Scratch(), try Scratch())
        let lenientAdmin = try await lenient.migrated()
        // The strict schema refuses leads of call-7 (a rule the other does not have).
        let strictAdmin = try await strict.migrated()
        try await strictAdmin.execute(
            "ALTER TABLE \"\(strict.schema.name)\".lead ADD CONSTRAINT no_seven CHECK (call_id <> 'call-7')")
        let first = try DeliveryRig(strict, name: "strict")
        let second = try DeliveryRig(lenient, temp: first.temp, store: first.store, name: "lenient")
        let secondRun = Task { [delivery = second.delivery] in try await delivery.run() }
        defer { secondRun.cancel() }
        try await first.running {
            let ids = try await first.enqueue((1...10).map { lead($0) })
            await first.delivery.waitUntilDone(through: ids.last!)
            await second.delivery.waitUntilDone(through: ids.last!)
            #expect(try await first.failed().map(\.entry.key) == ["call-7"])
            #expect(try await second.failed().isEmpty)
            #expect(try await strict.rows(strictAdmin, "SELECT count(*) FROM $schema.lead") == [["9"]])
            #expect(try await lenient.rows(lenientAdmin, "SELECT count(*) FROM $schema.lead") == [["10"]])
            // The set-aside entry stays in the log for its operator, whatever the other destinations did.
            #expect(try await first.ledger.outbox.prune(before: t0 + .seconds(86_400 * 365)) == 9)
            #expect(try await first.failed().map(\.entry.key) == ["call-7"])
        }
    }
}
