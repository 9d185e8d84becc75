import CallTrackCore
import PostgresSink
import Testing
import TestSupport

/// PostgreSQL goes away in the middle of a stream of leads and comes back: nothing is lost,
/// nothing is written twice, and leads arrive in the order they were committed to the outbox.
@Suite struct LeadOutageTests {
    @Test func postgresStoppedMidStreamAndStartedAgainLosesNothing() async throws {
        try await PostgresCluster.with { cluster in
            let scratch = try Scratch(cluster)
            let admin = try await scratch.migrated()
            // Every row version PostgreSQL really writes, in commit order.
            try await admin.execute("""
                CREATE TABLE "\(scratch.schema.name)".audit (seq bigserial PRIMARY KEY, call_id text, revision bigint);
                CREATE FUNCTION "\(scratch.schema.name)".audit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO "\(scratch.schema.name)".audit (call_id, revision) VALUES (NEW.call_id, NEW.revision); RETURN NEW; END $$;
                CREATE TRIGGER audit AFTER INSERT OR UPDATE ON "\(scratch.schema.name)".lead
                FOR EACH ROW EXECUTE FUNCTION "\(scratch.schema.name)".audit();
                """)
            admin.close()
            let rig = try DeliveryRig(scratch, batchSize: 50)
            // 600 calls; every third is updated (answered) in a later chunk.
            var changes: [Lead] = []
            for n in 0..<600 {
                changes.append(lead(n))
                if n % 3 == 0, n >= 20 { changes.append(lead(n - 20, revision: 2)) }
            }
            let chunks = stride(from: 0, to: changes.count, by: 40).map { Array(changes[$0..<min($0 + 40, changes.count)]) }
            try await rig.running {
                var lastID: Int64 = 0
                for (index, chunk) in chunks.enumerated() {
                    lastID = try await rig.enqueue(chunk).last ?? lastID
                    if index == 3 { try await cluster.stop() }         // mid-stream, with a connection open
                    if index == 10 {
                        #expect(await rig.log.waitFor("paused"))
                        #expect(try await rig.stats().pending > 0, "leads wait in the outbox")
                        try await cluster.restart()
                    }
                }
                await rig.delivery.waitUntilDone(through: lastID)
                #expect(rig.delivery.progress.failed == 0)
                #expect(rig.log.lines.filter { $0.contains("resumed") }.count == 1)
            }
            let pg = scratch.connection()
            // All leads present, each with its newest revision.
            var newest: [String: Int64] = [:]
            for change in changes { newest[change.callID] = max(newest[change.callID] ?? 0, change.revision) }
            let stored = try await scratch.rows(pg, "SELECT call_id, revision FROM $schema.lead")
            #expect(stored.count == 600)
            #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0[0]!, Int64($0[1]!)!) }) == newest)
            // None twice: no (call, revision) written more than once; revisions only go up.
            let audit = try await scratch.rows(pg, "SELECT call_id, revision FROM $schema.audit ORDER BY seq").map { ($0[0]!, Int64($0[1]!)!) }
            #expect(Set(audit.map { "\($0.0)#\($0.1)" }).count == audit.count)
            var seen: [String: Int64] = [:]
            for (call, revision) in audit {
                #expect(revision > (seen[call] ?? 0))
                seen[call] = revision
            }
            // In order: calls first reach PostgreSQL in the order they entered the outbox.
            var firstSeen: [String] = [], known: Set<String> = []
            for (call, _) in audit where known.insert(call).inserted { firstSeen.append(call) }
            var enqueued: [String] = [], enqueuedKnown: Set<String> = []
            for change in changes where enqueuedKnown.insert(change.callID).inserted { enqueued.append(change.callID) }
            #expect(firstSeen == enqueued)
        }
    }
}
