import CallTrackCore
import Foundation
import Logging
import Store
import Testing
import TestSupport

/// Retention per kind (SPEC §Privacy): old values are replaced, rows stay, redacted leads are queued as new revisions.
@Suite("Retention")
struct RetentionTests {
    static let day = Duration.seconds(86_400)
    static let old = SQLiteStoreTests.t0
    static let now = old + day * 800
    static let recent = now - day * 10

    static func visit(_ id: String, visitor: String, at t: Timestamp) -> SessionRecord {
        var session = SQLiteStoreTests.session(id, visitor: visitor, number: 1, at: t)
        session.userAgent = "Mozilla/5.0 (\(id))"
        session.clientNetwork = "203.0.113.0/24"
        session.gaClientID = "ga-\(id)"
        session.source.referrer = "https://ref.example/\(id)"
        session.source.landingURL = "https://acme.example/\(id)"
        return session
    }

    static func lead(_ id: String, visitor: String, at t: Timestamp) -> Lead {
        let touch = Touch(sessionID: "s-\(id)", at: t, channel: .paidSearch, source: "google", referrer: "https://ref.example/\(id)",
                          landingURL: "https://acme.example/\(id)")
        return Lead(callID: id, revision: 1, siteID: "acme", trackingNumber: SQLiteStoreTests.number(1),
                    caller: try! PhoneNumber.e164("+7916000000\(id.suffix(1))"), callerRaw: "8916000000\(id.suffix(1))",
                    callerName: "Caller \(id)", startedAt: t, match: Match(kind: .exact, sessionID: "s-\(id)", visitorID: visitor, confidence: 1, rule: "one lease"),
                    visitorID: visitor, userAgent: "Mozilla/5.0 (\(id))", firstTouch: touch, lastTouch: touch, journey: [touch], changedAt: t)
    }

    static func call(_ id: String, at t: Timestamp) -> CallRecord {
        CallRecord(id: id, revision: 3, trackingNumber: SQLiteStoreTests.number(1), dialled: "1", caller: try! PhoneNumber.e164("+7916000000\(id.suffix(1))"),
                   callerRaw: "8916000000\(id.suffix(1))", callerWithheld: false, callerName: "Caller \(id)", startedAt: t)
    }

    @Test("each kind past its period is replaced in sessions, leases, calls and leads; rows and sources stay; a second sweep changes nothing")
    func redactsPerKind() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let midAge = Self.now - Self.day * 100   // past user agents (90d) and IPs (30d), not URLs (180d)
        try await store.apply([
            .session(Self.visit("s-c1", visitor: "v1", at: Self.old)),
            .lease(SQLiteStoreTests.lease(1, session: "s-c1", visitor: "v1", start: Self.old, expires: Self.old + .seconds(1200))),
            .session(Self.visit("s-c2", visitor: "v2", at: midAge)),
            .session(Self.visit("s-c3", visitor: "v3", at: Self.recent)),
            .call(Self.call("c1", at: Self.old)), .call(Self.call("c2", at: midAge)), .call(Self.call("c3", at: Self.recent)),
            .link(VisitorIdentifier(.gaClientID, "1.old")!, to: "v1", at: Self.old),
            .link(VisitorIdentifier(.gaClientID, "2.seen-again")!, to: "v1", at: Self.old),
            .link(VisitorIdentifier(.gaClientID, "2.seen-again")!, to: "v1", at: Self.recent),
        ])
        try await ledger.store([Self.lead("c1", visitor: "v1", at: Self.old), Self.lead("c2", visitor: "v2", at: midAge),
                                Self.lead("c3", visitor: "v3", at: Self.recent)], at: Self.old)
        let queuedBefore = try await ledger.outbox.latestPerKey().map(\.id).max() ?? 0

        let counts = try await ledger.redact(RetentionPolicy(), at: Self.now)
        #expect(counts.leads == 2, "c1 (every kind) and c2 (user agent); c3 is recent")
        #expect(counts.calls == 1)
        #expect(counts.leases == 1)
        #expect(counts.identifiers == 1, "only the id not seen within privacy.retention")

        let c1 = try #require(try await ledger.lead("c1")?.lead)
        #expect(c1.caller == nil && c1.callerRaw == "" && c1.callerName == nil && c1.userAgent == nil && c1.visitorID == nil)
        #expect(c1.firstTouch?.landingURL == nil && c1.firstTouch?.referrer == nil && c1.firstTouch?.source == "google")
        #expect(c1.revision == 2 && c1.match.kind == .exact)
        let c2 = try #require(try await ledger.lead("c2")?.lead)
        #expect(c2.userAgent == nil && c2.caller != nil && c2.firstTouch?.landingURL != nil && c2.visitorID == "v2")
        let c3 = try #require(try await ledger.lead("c3")?.lead)
        #expect(c3.revision == 1 && c3.callerName == "Caller c3" && c3.userAgent != nil && c3.firstTouch?.landingURL != nil)
        // The redacted revisions are queued for the destinations, after what was there.
        let queued = try await ledger.outbox.latestPerKey().filter { $0.id > queuedBefore }
        #expect(Set(queued.map(\.key)) == ["c1", "c2"])
        #expect(queued.first { $0.key == "c1" }?.revision == 2)

        let old = try #require(try await store.session("s-c1"))
        #expect(old.visitorID == "" && old.userAgent == nil && old.clientNetwork == nil && old.gaClientID == nil)
        #expect(old.source.referrer == nil && old.source.landingURL == nil && old.source.utmSource == "google")
        let mid = try #require(try await store.session("s-c2"))
        #expect(mid.userAgent == nil && mid.clientNetwork == nil && mid.source.landingURL != nil && mid.visitorID == "v2")
        let fresh = try #require(try await store.session("s-c3"))
        #expect(fresh.visitorID == "v3" && fresh.userAgent != nil && fresh.clientNetwork != nil && fresh.source.landingURL != nil)
        let calls = try await store.recentCalls(limit: 10)
        #expect(calls.first { $0.id == "c1" }.map { $0.caller == nil && $0.callerRaw == "" && $0.callerName == nil } == true)
        #expect(calls.first { $0.id == "c2" }?.callerName == "Caller c2")
        // Rows stay: every count is what it was.
        #expect(try await store.count("session") == 3)
        #expect(try await store.count("lease") == 1)
        #expect(try await store.count("call") == 3)
        #expect(try await store.count("lead") == 3)

        let again = try await ledger.redact(RetentionPolicy(), at: Self.now)
        #expect(again.total == 0, "\(again)")
    }

    @Test("a merge's via loses the phone with the callers' period and is queued again")
    func mergeVia() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let phone = VisitorIdentifier(phone: try PhoneNumber.e164("+79161234567"))
        let ga = VisitorIdentifier(.gaClientID, "1234.5678")!
        try await store.apply([.link(phone, to: "v1", at: Self.old), .link(phone, to: "v2", at: Self.old),
                               .link(ga, to: "v3", at: Self.recent), .link(ga, to: "v4", at: Self.recent)])
        let counts = try await ledger.redact(RetentionPolicy(identifiers: Self.day * 3650), at: Self.now)
        #expect(counts.merges == 1)
        let merges = try await ledger.merges()
        #expect(Set(merges.map(\.via)) == ["phone:", "ga:1234.5678"])
        #expect(try await ledger.outbox.latestPerKey().first?.key == "merge:v2")
        #expect(try await ledger.redact(RetentionPolicy(identifiers: Self.day * 3650), at: Self.now).total == 0)
    }
}
