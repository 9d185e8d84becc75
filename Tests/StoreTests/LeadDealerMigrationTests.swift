import CallTrackCore
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// A store from before dealer routing — leads with the site's fixed dealer and without one — upgraded by
/// `v17-lead-dealer-routing`: a lead with a dealer reads back with the rule `site` and a reason that says so; a
/// lead without keeps no dealer, rule or reason.
@Suite("Migration v17: a lead's dealer rule and reason")
struct LeadDealerMigrationTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)

    static func lead(_ id: String, dealer: String?) throws -> Lead {
        Lead(callID: id, revision: 3, siteID: "acme", trackingNumber: try PhoneNumber.e164("+74950000001"),
             caller: try PhoneNumber.e164("+79161234567"), callerRaw: "+79161234567", startedAt: t,
             match: Match(kind: .unmatched, confidence: 0, candidateCount: 0, candidates: [], rule: "no lease"),
             dealerID: dealer, changedAt: t)
    }

    @Test("leads written by v16 read back after the upgrade: the site's dealer becomes rule `site`, no dealer stays none")
    func olderLeadsGetTheSiteRule() async throws {
        let dir = TemporaryDirectory("v17")
        defer { dir.remove() }
        // Rows in today's columns, copied into a store that stopped at v16 (without the two new columns).
        let donorPath = dir.file("donor.sqlite")
        let donor = try SQLiteStore(path: donorPath, logger: Logger(label: "test"))
        let writer = Task { await donor.run() }
        let ledger = LeadLedger(store: donor, outbox: Outbox(store: donor, topic: Outbox.leadTopic))
        try await ledger.store([try Self.lead("with-dealer", dealer: "north"), try Self.lead("without", dealer: nil)], at: Self.t)
        writer.cancel()
        try donor.database.close()

        let path = dir.file("state.sqlite")
        let old = try DatabaseQueue(path: path)
        try Schema.migrator().migrate(old, upTo: "v16-pool-statistics")
        let columns = try await old.read { db in try db.columns(in: "lead").map(\.name) }
        #expect(!columns.contains("dealer_rule") && !columns.contains("dealer_reason"))
        try await old.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS donor", arguments: [donorPath])
            let list = columns.joined(separator: ", ")
            try db.execute(sql: "INSERT INTO main.lead (\(list)) SELECT \(list) FROM donor.lead")
            try db.execute(sql: "DETACH DATABASE donor")
        }
        try old.close()

        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let upgraded = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let withDealer = try #require(try await upgraded.lead("with-dealer")?.lead)
        #expect(withDealer.dealerID == "north")
        #expect(withDealer.dealerRule == .site)
        #expect(withDealer.dealerReason == "the site's dealer (stored before dealer routing)")
        let without = try #require(try await upgraded.lead("without")?.lead)
        #expect(without.dealerID == nil && without.dealerRule == nil && without.dealerReason == nil)
    }

    @Test("the schema refuses a rule routing does not know")
    func unknownRuleRefused() async throws {
        let dir = TemporaryDirectory("v17-check")
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        try await ledger.store([try Self.lead("c1", dealer: "north")], at: Self.t)
        #expect(throws: (any Error).self) {
            try store.database.write { db in try db.execute(sql: "UPDATE lead SET dealer_rule = 'coin_toss' WHERE call_id = 'c1'") }
        }
    }
}

@Suite("The sticky dealer in SQLite: found by index")
struct StickyDealerPlanTests {
    @Test("the dealer who handled a person before is looked up through the partial indexes, by visitor and by caller")
    func stickyLookupsUseTheIndexes() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let byVisitor = try await QueryPlanTests.plan(LeadLedger.stickyByVisitorSQL, arguments: ["v1", 1], in: store)
        #expect(byVisitor.contains("lead_dealer_by_visitor") && !byVisitor.contains("SCAN"), "\(byVisitor)")
        let byCaller = try await QueryPlanTests.plan(LeadLedger.stickyByCallerSQL, arguments: ["+79161234567", 1], in: store)
        #expect(byCaller.contains("lead_dealer_by_caller") && !byCaller.contains("SCAN"), "\(byCaller)")
        let callbacks = try await QueryPlanTests.plan(DealerStatisticsStore.callbackSQL, arguments: [5, "spb", "+78125550000", 5], in: store)
        #expect(callbacks.contains("dealer_missed_call_by_caller"), "\(callbacks)")
    }
}
