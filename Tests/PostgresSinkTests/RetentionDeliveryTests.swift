import CallTrackCore
import PostgresSink
import Store
import Testing
import TestSupport

/// A redaction travels through the outbox like any lead change: PostgreSQL's lead rows and merges lose the values too.
@Suite(.postgresCluster)
struct RetentionDeliveryTests {
    @Test(.timeLimit(.minutes(2)))
    func redactedLeadsAndMergesReachPostgres() async throws {
        let scratch = try Scratch()
        let rig = try DeliveryRig(scratch)
        let writer = Task { [store = rig.store] in await store.run() }
        defer { writer.cancel() }
        let now = t0 + .seconds(800 * 86_400)
        try await rig.running {
            var recent = lead(2)
            recent.startedAt = now - .seconds(86_400)
            try await rig.enqueue([lead(1), recent])
            let phone = VisitorIdentifier(phone: try PhoneNumber.e164("+79160000001"))
            try await rig.store.apply([.link(phone, to: "v-1", at: t0), .link(phone, to: "v-x", at: t0)])
            let pg = scratch.connection()
            defer { pg.close() }
            await rig.delivery.waitUntilDone(through: try await rig.ledger.outbox.latestPerKey().map(\.id).max()!)
            #expect(try await scratch.rows(pg, "SELECT via FROM $schema.visitor_merge") == [["phone:+79160000001"]])

            let counts = try await rig.ledger.redact(RetentionPolicy(), at: now)
            #expect(counts.leads == 1 && counts.merges == 1)
            await rig.delivery.waitUntilDone(through: try await rig.ledger.outbox.latestPerKey().map(\.id).max()!)
            let rows = try await scratch.rows(pg, """
                SELECT call_id, revision::text, caller, caller_name, user_agent, visitor_id, first_touch ->> 'source', match_kind
                FROM $schema.lead ORDER BY call_id
                """)
            #expect(rows == [
                ["call-1", "2", "", nil, nil, nil, "google", "exact"],
                ["call-2", "1", "+79160000002", "Ivan", "Mozilla/5.0", "v-2", "google", "exact"],
            ])
            #expect(try await scratch.rows(pg, "SELECT via FROM $schema.visitor_merge") == [["phone:"]])
            #expect(try await rig.stats().failed == 0)
        }
    }
}
