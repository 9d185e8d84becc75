import CallTrackCore
import Foundation
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// Identity on a real SQLite file: identifiers seen with visits link visitors, a second owner merges into
/// the first, merges chain to one survivor, and every merge is recorded (SPEC §Identity over a long sales cycle).
@Suite("Visitor identity: links and merges")
struct VisitorIdentityTests {
    static let t0 = SQLiteStoreTests.t0

    struct Bench {
        let dir = TemporaryDirectory("identity")
        let store: SQLiteStore
        let ledger: LeadLedger
        let writer: Task<Void, Never>

        init() throws {
            store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
            ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: "lead"))
            let store = store
            writer = Task { await store.run() }
        }

        /// A visit as the session desk stores it: the session and the links of its identifiers.
        func visit(_ session: String, visitor: String, at t: Timestamp, ga: String? = nil, ym: String? = nil, gclid: String? = nil) async throws {
            var record = SQLiteStoreTests.session(session, visitor: visitor, number: 1, at: t)
            record.gaClientID = ga
            record.ymUID = ym
            record.source.clickIDs.gclid = gclid
            try await store.apply([.session(record)] + record.identifiers(linking: VisitorIdentifier.Kind.fromSessions).map {
                .link($0, to: visitor, at: t)
            })
        }

        /// The visitor `visitor` is now, and every id of that person, as matching reads them.
        func person(of visitor: VisitorID) async throws -> (survivor: VisitorID, ids: [VisitorID]) {
            try await store.database.read { db in try LeadLedger.person(of: visitor, db) }
        }

        func close() {
            writer.cancel()
            dir.remove()
        }
    }

    @Test("a second visitor with the same GA client id merges into the first; the merge names the id")
    func analyticsIDMerges() async throws {
        let bench = try Bench()
        defer { bench.close() }
        try await bench.visit("s1", visitor: "v_desktop", at: Self.t0, ga: "1234567890.1700000000")
        try await bench.visit("s2", visitor: "v_cleared", at: Self.t0 + .seconds(86_400), ga: "1234567890.1700000000")
        let person = try await bench.person(of: "v_cleared")
        #expect(person.survivor == "v_desktop")
        #expect(person.ids == ["v_desktop", "v_cleared"])
        let merges = try await bench.ledger.merges()
        #expect(merges.count == 1)
        #expect(merges.first?.via == "ga:1234567890.1700000000")
        #expect(merges.first?.reason.contains("analytics client id") == true)
        #expect(merges.first?.at == Self.t0 + .seconds(86_400))
        // Their sessions are one journey now.
        let journey = try await bench.store.database.read { [ids = person.ids] db in
            try LeadLedger.journey(of: ids, upTo: Self.t0 + .seconds(2 * 86_400), db)
        }
        #expect(journey.map(\.id) == ["s1", "s2"])
    }

    @Test("visits of one visitor repeating its ids merge nothing; different ids merge nothing")
    func noFalseMerges() async throws {
        let bench = try Bench()
        defer { bench.close() }
        try await bench.visit("s1", visitor: "v1", at: Self.t0, ga: "1.1", ym: "171")
        try await bench.visit("s2", visitor: "v1", at: Self.t0 + .seconds(60), ga: "1.1", ym: "171")
        try await bench.visit("s3", visitor: "v2", at: Self.t0 + .seconds(120), ga: "2.2", ym: "172", gclid: "Cj0KCQ")
        #expect(try await bench.ledger.merges().isEmpty)
        #expect(try await bench.person(of: "v2").ids == ["v2"])
        let profile = try #require(try await bench.ledger.profile(of: "v1"))
        #expect(Set(profile.identifiers.map(\.identifier.description)) == ["ga:1.1", "ym:171"])
        let ga = try #require(profile.identifiers.first { $0.identifier.kind == .gaClientID })
        #expect(ga.linkedAt == Self.t0)
        #expect(ga.lastSeenAt == Self.t0 + .seconds(60), "seen again: retention counts from the last sighting")
    }

    @Test("merges chain: a whole person merges into the visitor an id was seen with first, in one level")
    func mergesChainToOneSurvivor() async throws {
        let bench = try Bench()
        defer { bench.close() }
        try await bench.visit("s0", visitor: "v_oldest", at: Self.t0, ym: "ym-1")
        try await bench.visit("s1", visitor: "v_a", at: Self.t0 + .seconds(10), gclid: "click-1")
        try await bench.visit("s2", visitor: "v_b", at: Self.t0 + .seconds(20), gclid: "click-1")  // v_b → v_a
        try await bench.visit("s3", visitor: "v_b", at: Self.t0 + .seconds(30), ym: "ym-1")        // v_a's person → v_oldest
        for visitor in ["v_a", "v_b", "v_oldest"] {
            let person = try await bench.person(of: visitor)
            #expect(person.survivor == "v_oldest")
            #expect(Set(person.ids) == ["v_oldest", "v_a", "v_b"])
        }
        let merges = try await bench.ledger.merges()
        #expect(Set(merges.map(\.via)) == ["gclid:click-1", "ym:ym-1"])
        #expect(merges.allSatisfy { $0.survivor == "v_oldest" }, "one level: every merged id points at the survivor")
    }

    @Test("a connector links a CRM contact to a call's visitor; the same contact on another visitor merges them")
    func connectorLinks() async throws {
        let bench = try Bench()
        defer { bench.close() }
        try await bench.visit("s1", visitor: "v_office", at: Self.t0)
        try await bench.visit("s2", visitor: "v_home", at: Self.t0 + .seconds(100))
        try await bench.ledger.record(
            Lead(callID: "call-1", revision: 1, siteID: "acme", trackingNumber: try PhoneNumber.e164("+74950000001"),
                 caller: try PhoneNumber.e164("+79161234567"), startedAt: Self.t0 + .seconds(5),
                 match: Match(kind: .exact, sessionID: "s1", visitorID: "v_office", confidence: 1, rule: "one lease"),
                 visitorID: "v_office", changedAt: Self.t0 + .seconds(5)),
            callRevision: 1, binding: nil, at: Self.t0 + .seconds(5))
        let contact = try #require(VisitorIdentifier(.crmContact, "amo-4711"))
        let first = try #require(try await bench.ledger.link(contact, to: .call("call-1"), by: "amoCRM connector", at: Self.t0 + .seconds(200)))
        #expect(first.survivor == "v_office")
        #expect(first.leads == ["call-1"])
        #expect(first.merges.isEmpty)
        let second = try #require(try await bench.ledger.link(contact, to: .visitor("v_home"), by: "amoCRM connector", at: Self.t0 + .seconds(300)))
        #expect(second.survivor == "v_office")
        #expect(second.visitorIDs == ["v_office", "v_home"])
        #expect(second.merges.first?.reason.contains("amoCRM connector") == true)
        #expect(second.merges.first?.via == "crm:amo-4711")
        #expect(try await bench.ledger.link(contact, to: .call("no-such-call"), by: "x", at: Self.t0) == nil)
        // A visitor never seen is not made up by a link: no profile, nothing stored for it.
        #expect(try await bench.ledger.link(contact, to: .visitor("v_phantom"), by: "x", at: Self.t0) == nil)
        #expect(try await bench.ledger.profile(of: "v_phantom") == nil)
        #expect(try await bench.ledger.profile(of: "nobody") == nil)
    }

    @Test("phone bindings stored before identifiers existed are kept by the migration")
    func migrationKeepsPhoneBindings() async throws {
        let dir = TemporaryDirectory("identity-migration")
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        // A database as version v6 left it, with one phone bound by a call.
        let old = try DatabaseQueue(path: path)
        try Schema.migrator().migrate(old, upTo: "v6-visitor-merges")
        try await old.write { db in
            try db.execute(sql: "INSERT INTO phone_binding VALUES ('+79161234567', 'v_caller', 1800000000000000, 'call-0')")
        }
        try old.close()
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: "lead"))
        let phone = try PhoneNumber.e164("+79161234567")
        #expect(try await store.database.read { db in try LeadLedger.survivorAfterBinding(phone, to: "v_other", db) } == "v_caller")
        let profile = try #require(try await ledger.profile(of: "v_caller"))
        #expect(profile.identifiers.map(\.identifier) == [VisitorIdentifier(phone: phone)])
        #expect(profile.identifiers.first?.callID == "call-0")
    }
}
