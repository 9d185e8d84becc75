import CallTrackCore
import CoreMetrics
import PostgresSink
import Store
import Testing
import TestSupport

/// Visitor merges reach PostgreSQL in order with the leads, so the CRM sees one buyer where calltrackd does.
@Suite(.postgresCluster)
struct MergeDeliveryTests {
    @Test(.timeLimit(.minutes(2)))
    func aMergeFromAVisitReachesPostgresAndJoinsTheLeadsOfOnePerson() async throws {
        let scratch = try Scratch()
        let metrics = RecordingMetrics()
        let rig = try withMetricsFactory(metrics) { try DeliveryRig(scratch) }
        let writer = Task { [store = rig.store] in await store.run() }
        defer { writer.cancel() }
        try await rig.running {
            var before = lead(1)
            before.visitorID = "v_before"
            var after = lead(2)
            after.visitorID = "v_after"
            var third = lead(3)
            third.visitorID = "v_third"
            try await rig.enqueue([before, after, third])
            // Visits: v_after and then v_third carry the analytics id v_before arrived with.
            let ga = try #require(VisitorIdentifier(.gaClientID, "1234567890.1700000000"))
            try await rig.store.apply([.link(ga, to: "v_before", at: t0)])
            try await rig.store.apply([.link(ga, to: "v_after", at: t0 + .seconds(60))])
            try await rig.store.apply([.link(ga, to: "v_third", at: t0 + .seconds(120))])
            // No lead follows the merges: the commit of the visit itself must wake the delivery.
            let merges = try await rig.ledger.outbox.latestPerKey().filter { $0.key.hasPrefix(VisitorMerge.outboxKeyPrefix) }
            #expect(merges.map(\.key).sorted() == ["merge:v_after", "merge:v_third"])
            await rig.delivery.waitUntilDone(through: merges.map(\.id).max()!)

            let pg = scratch.connection()
            #expect(try await scratch.rows(pg, "SELECT merged_id, survivor_id, via FROM $schema.visitor_merge ORDER BY merged_id") == [
                ["v_after", "v_before", "ga:1234567890.1700000000"], ["v_third", "v_before", "ga:1234567890.1700000000"],
            ])
            #expect(try await scratch.rows(pg, "SELECT call_id, visitor_id, person_id FROM $schema.lead_person ORDER BY call_id") == [
                ["call-1", "v_before", "v_before"], ["call-2", "v_after", "v_before"], ["call-3", "v_third", "v_before"],
            ])
            #expect(try await rig.stats().pending == 0)
            #expect(try await rig.stats().failed == 0)
            // Three leads and two merges, each counted as what it is.
            #expect(metrics.value("calltrackd_leads_delivered_total", [("destination", "postgres")]) == 3)
            #expect(metrics.value("calltrackd_visitor_merges_delivered_total", [("destination", "postgres")]) == 2)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aChainOfMergesEndsOneLevelDeepInPostgresToo() async throws {
        let scratch = try Scratch()
        let rig = try DeliveryRig(scratch)
        let writer = Task { [store = rig.store] in await store.run() }
        defer { writer.cancel() }
        try await rig.running {
            let ym = try #require(VisitorIdentifier(.ymUID, "ym-1"))
            let click = try #require(VisitorIdentifier(.gclid, "click-1"))
            try await rig.store.apply([.link(ym, to: "v_oldest", at: t0)])
            try await rig.store.apply([.link(click, to: "v_a", at: t0 + .seconds(10))])
            try await rig.store.apply([.link(click, to: "v_b", at: t0 + .seconds(20))])  // v_b → v_a
            try await rig.store.apply([.link(ym, to: "v_b", at: t0 + .seconds(30))])     // v_a (and v_b) → v_oldest
            let merges = try await rig.ledger.outbox.latestPerKey().filter { $0.key.hasPrefix(VisitorMerge.outboxKeyPrefix) }
            await rig.delivery.waitUntilDone(through: merges.map(\.id).max()!)
            let pg = scratch.connection()
            #expect(try await scratch.rows(pg, "SELECT merged_id, survivor_id FROM $schema.visitor_merge ORDER BY merged_id") == [
                ["v_a", "v_oldest"], ["v_b", "v_oldest"],
            ])
        }
    }
}
