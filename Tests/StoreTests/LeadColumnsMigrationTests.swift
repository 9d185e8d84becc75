import CallTrackCore
import Foundation
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// A store an older daemon left — leads as JSON payloads with JSON text inside, a merge, lead changes and a merge
/// waiting for PostgreSQL — upgraded to typed lead columns and an outbox of references: every lead reads back
/// whole, nothing waiting is lost.
@Suite("Migrations v13 and v14: leads as typed columns, outbox entries that name what changed")
struct LeadColumnsMigrationTests {
    static let touchAd = #"{\"at\":1799913600,\"campaign\":\"pumps\",\"channel\":\"paid_search\",\"medium\":\"cpc\",\"session_id\":\"s1\",\"source\":\"google\"}"#
    static let touchDirect = #"{\"at\":1799999700,\"channel\":\"direct\",\"session_id\":\"s2\"}"#
    static let exact = #"{"callID":"call-1","revision":3,"siteID":"acme","trackingNumber":"+74950000001","caller":"+79161234567","callerName":"Ivan","startedAt":{"microsecondsSinceEpoch":1800000000000000},"answeredAt":{"microsecondsSinceEpoch":1800000008000000},"endedAt":{"microsecondsSinceEpoch":1800000068000000},"disposition":"answered","answeredBy":"Local\/101@agents","talkSeconds":60,"ringSeconds":8,"matchKind":"exact","matchConfidence":1,"candidateCount":1,"matchExplanation":"{\"candidates\":[{\"last_activity\":\"2027-01-15T07:59:50Z\",\"lease_end\":\"2027-01-15T08:15:00Z\",\"lease_start\":\"2027-01-15T07:55:00Z\",\"session_id\":\"s2\",\"visitor_id\":\"v1\"}],\"confidence\":1,\"kind\":\"exact\",\"rule\":\"one lease held the number at call time\"}","visitorID":"v1","sessionID":"s2","userAgent":"Mozilla\/5.0","firstTouch":""#
        + touchAd + #"","lastTouch":""# + touchAd + #"","journey":"["# + touchAd + "," + touchDirect
        + #"]","dealerID":"north","isLead":true,"changedAt":{"microsecondsSinceEpoch":1800000068000000}}"#
    static let repeated = #"{"callID":"call-2","revision":1,"siteID":"acme","trackingNumber":"+74950000001","caller":"+79161234567","startedAt":{"microsecondsSinceEpoch":1800003600000000},"disposition":"ringing","talkSeconds":0,"ringSeconds":0,"matchKind":"repeat","matchConfidence":0.6,"candidateCount":0,"matchExplanation":"{\"candidates\":[],\"confidence\":0.6,\"kind\":\"repeat\",\"rule\":\"no lease; the caller's phone is bound to a known visitor\"}","visitorID":"v1","sessionID":"s2","firstTouch":""#
        + touchAd + #"","lastTouch":""# + touchAd + #"","journey":"["# + touchAd + "," + touchDirect
        + #"]","dealerID":"north","isLead":false,"repeatOf":"call-1","changedAt":{"microsecondsSinceEpoch":1800003600000000}}"#
    static let billboard = #"{"callID":"call-3","revision":3,"siteID":"acme","trackingNumber":"+74950000099","caller":"anonymous","startedAt":{"microsecondsSinceEpoch":1800007200000000},"endedAt":{"microsecondsSinceEpoch":1800007230000000},"disposition":"no_answer","talkSeconds":0,"ringSeconds":30,"matchKind":"static","matchConfidence":1,"candidateCount":0,"matchExplanation":"{\"candidates\":[],\"confidence\":1,\"kind\":\"static\",\"rule\":\"static number: its fixed source\"}","firstTouch":"{\"at\":1800007200,\"campaign\":\"ring-road\",\"channel\":\"offline\",\"medium\":\"offline\",\"session_id\":\"\",\"source\":\"billboard\"}","lastTouch":"{\"at\":1800007200,\"campaign\":\"ring-road\",\"channel\":\"offline\",\"medium\":\"offline\",\"session_id\":\"\",\"source\":\"billboard\"}","journey":"[]","dealerID":"north","isLead":false,"junkReason":"anonymous","changedAt":{"microsecondsSinceEpoch":1800007230000000}}"#
    static let merge = #"{"merged_id":"v2","survivor_id":"v1","reason":"a call matched to the merged visitor's session carried a phone already bound to the survivor","via":"phone:+79161234567","call_id":"call-2","merged_at_us":1800003600000000}"#

    /// A database as v12 left it: three calls and their leads, a merge, and the outbox.
    static func olderStore(at path: String) throws {
        let old = try DatabaseQueue(path: path)
        try Schema.migrator().migrate(old, upTo: "v12-lead-verdict")
        try old.write { db in
            for (id, revision, number, caller, raw, start) in [
                ("call-1", 3, "+74950000001", "+79161234567" as String?, "89161234567", Int64(1_800_000_000_000_000)),
                ("call-2", 1, "+74950000001", "+79161234567", "89161234567", 1_800_003_600_000_000),
                ("call-3", 3, "+74950000099", nil, "anonymous", 1_800_007_200_000_000),
            ] {
                try db.execute(sql: """
                    INSERT INTO call (id, revision, tracking_number, dialled, caller, caller_raw, caller_withheld, started_at,
                                      resumed, ended_while_disconnected)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
                    """, arguments: [id, revision, number, number, caller, raw, caller == nil, start])
            }
            for (id, revision, visitor, caller, start, isLead, kind, junk, repeatOf, payload) in [
                ("call-1", 3, "v1" as String?, "+79161234567", Int64(1_800_000_000_000_000), 1, "exact", nil as String?, nil as String?, exact),
                ("call-2", 1, "v1", "+79161234567", 1_800_003_600_000_000, 0, "repeat", nil, "call-1", repeated),
                ("call-3", 3, nil, "anonymous", 1_800_007_200_000_000, 0, "static", "anonymous", nil, billboard),
            ] {
                try db.execute(sql: """
                    INSERT INTO lead (call_id, revision, site_id, visitor_id, caller, started_at, is_lead, match_kind, dealer_id,
                                      junk_reason, repeat_of, payload, updated_at)
                    VALUES (?, ?, 'acme', ?, ?, ?, ?, ?, 'north', ?, ?, ?, ?)
                    """, arguments: [id, revision, visitor, caller, start, isLead, kind, junk, repeatOf, payload, start])
            }
            try db.execute(sql: """
                INSERT INTO visitor_merge (merged_id, survivor_id, reason, via, call_id, merged_at)
                VALUES ('v2', 'v1', 'a call', 'phone:+79161234567', 'call-2', 1800003600000000)
                """)
            for (key, payload, state) in [("call-1", exact, "delivered"), ("call-2", repeated, "pending"), ("merge:v2", merge, "pending"),
                                          ("call-3", billboard, "pending")] {
                try db.execute(sql: "INSERT INTO outbox (topic, key, payload, enqueued_at, state) VALUES ('lead', ?, ?, 1800000000000000, ?)",
                               arguments: [key, payload, state])
            }
            // A delivered entry pruned already: its id (5) is not reused.
            try db.execute(sql: "INSERT INTO outbox (topic, key, payload, enqueued_at, state) VALUES ('lead', 'call-0', '{}', 0, 'delivered')")
            try db.execute(sql: "DELETE FROM outbox WHERE key = 'call-0'")
        }
        try old.close()
    }

    @Test("every lead reads back typed after the upgrade, and every change waiting for PostgreSQL still waits, in order")
    func leadsAndPendingDeliveriesSurvive() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        try Self.olderStore(at: path)
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))

        let exact = try #require(try await ledger.lead("call-1")?.lead)
        #expect(exact.revision == 3 && exact.siteID == "acme" && exact.trackingNumber.e164 == "+74950000001")
        #expect(exact.caller?.e164 == "+79161234567" && exact.callerRaw == "89161234567" && exact.callerName == "Ivan")
        #expect(exact.disposition == .answered && exact.answeredBy == "Local/101@agents" && exact.talkSeconds == 60 && exact.ringSeconds == 8)
        #expect(exact.answeredAt == Timestamp(secondsSinceEpoch: 1_800_000_008) && exact.endedAt == Timestamp(secondsSinceEpoch: 1_800_000_068))
        #expect(exact.match.kind == .exact && exact.match.confidence == 1 && exact.match.candidateCount == 1)
        #expect(exact.match.sessionID == "s2" && exact.match.visitorID == "v1")
        #expect(exact.match.rule == "one lease held the number at call time")
        let candidate = try #require(exact.match.candidates.first)
        #expect(candidate.sessionID == "s2" && candidate.rejectedBecause == nil)
        #expect(candidate.leaseStart == Timestamp(secondsSinceEpoch: 1_799_999_700) && candidate.leaseEnd == Timestamp(secondsSinceEpoch: 1_800_000_900))
        #expect(exact.visitorID == "v1" && exact.userAgent == "Mozilla/5.0" && exact.dealerID == "north" && exact.isLead)
        #expect(exact.firstTouch == Touch(sessionID: "s1", at: Timestamp(secondsSinceEpoch: 1_799_913_600), channel: .paidSearch,
                                          source: "google", medium: "cpc", campaign: "pumps"))
        #expect(exact.lastTouch == exact.firstTouch)
        #expect(exact.journey.map(\.sessionID) == ["s1", "s2"] && exact.journey.last?.channel == .direct)
        #expect(exact.changedAt == Timestamp(secondsSinceEpoch: 1_800_000_068))

        let repeated = try #require(try await ledger.lead("call-2"))
        #expect(repeated.callRevision == 1 && repeated.lead?.repeatOf == "call-1" && repeated.lead?.isLead == false)
        #expect(repeated.lead?.match.kind == .repeat && repeated.lead?.match.confidence == 0.6)

        let billboard = try #require(try await ledger.lead("call-3")?.lead)
        #expect(billboard.caller == nil && billboard.callerRaw == "anonymous" && billboard.callerText == "anonymous")
        #expect(billboard.junkReason == .anonymous && billboard.disposition == .noAnswer && billboard.match.kind == .static)
        #expect(billboard.firstTouch?.sessionID == nil && billboard.firstTouch?.source == "billboard" && billboard.journey.isEmpty)

        // The repeat rule still finds the open lead by caller and by person, through the open-lead indexes.
        var rules = LeadRules()
        rules.uniquenessWindow = .seconds(86_400)
        let search = rules.repeatSearch(at: Timestamp(secondsSinceEpoch: 1_800_010_000), site: "acme", dealer: "north")
        let caller = try PhoneNumber.e164("+79161234567")
        #expect(try await store.database.read { db in try LeadLedger.openLeads(visitor: nil, caller: caller, search: search, db) }.map(\.callID) == ["call-1"])
        #expect(try await store.database.read { db in try LeadLedger.openLeads(visitor: "v1", caller: nil, search: search, db) }.map(\.callID) == ["call-1"])
        #expect(try await ledger.callsBehind().isEmpty, "every lead is as far as its call")

        // Nothing waiting for PostgreSQL is lost, and it waits in the order it was queued.
        let pending = try await ledger.outbox.pending(for: "postgres", limit: 10)
        #expect(pending.map(\.key) == ["call-2", "merge:v2", "call-3"])
        #expect(pending.map(\.revision) == [1, nil, 3], "each entry names the lead revision that changed (none for a merge)")
        #expect(pending.map(\.id) == [2, 3, 4], "ids and their order stay")
        #expect(try await ledger.outbox.stats(for: "postgres").pending == 3)
        // An id pruned before the upgrade is not given out again after it.
        #expect(try await ledger.outbox.enqueue([(key: "call-4", revision: 1)], at: Timestamp(secondsSinceEpoch: 1_800_010_000)) == [6])
        #expect(try await ledger.merges().map(\.merged) == ["v2"])

        // The schema holds the lead to its types: a disposition or junk reason outside the lists is refused.
        await #expect(throws: DatabaseError.self) {
            try await store.database.write { db in try db.execute(sql: "UPDATE lead SET disposition = 'maybe' WHERE call_id = 'call-1'") }
        }
        await #expect(throws: DatabaseError.self, "is_lead must agree with the verdict") {
            try await store.database.write { db in try db.execute(sql: "UPDATE lead SET is_lead = 1 WHERE call_id = 'call-2'") }
        }
    }
}
