import CallTrackCore
import PostgresSink
import Testing
import TestSupport

@Suite(.postgresCluster)
struct LeadWriterTests {
    @Test func migrationsAreIdempotentAndSafeToRunConcurrently() async throws {
        let scratch = try Scratch()
        let a = scratch.connection(), b = scratch.connection()
        let schema = scratch.schema
        async let first = a.withSession { session throws(PostgresError) in try schema.migrate(session) }
        async let second = b.withSession { session throws(PostgresError) in try schema.migrate(session) }
        let applied = try await [first, second]
        #expect(applied.flatMap { $0 }.sorted() == [1, 2, 3, 4], "each version is applied once, by one of the two daemons")
        #expect(try await a.withSession { session throws(PostgresError) in try schema.migrate(session) } == [])
        #expect(try await a.withSession { session throws(PostgresError) in try schema.version(session) } == 4)
        let foreignKeys = try await scratch.rows(a, "SELECT count(*) FROM pg_constraint WHERE conrelid = '$schema.crm_sync'::regclass AND contype = 'f'")
        #expect(foreignKeys == [["0"]])
    }

    @Test func aCallNobodySawEndIsStoredWithAnUnknownOutcome() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var unseen = lead(1, revision: 3)
        unseen.disposition = "unknown"
        unseen.talkSeconds = 0
        #expect(try await scratch.upsert(pg, [unseen]) == 1)
        #expect(try await scratch.rows(pg, "SELECT disposition, is_lead FROM $schema.lead") == [["unknown", "t"]])
        var bogus = lead(2)
        bogus.disposition = "lost"
        await #expect(throws: PostgresError.self, "the schema still admits only the dispositions calltrackd writes") {
            try await scratch.upsert(pg, [bogus])
        }
    }

    @Test func replaysKeepOneRowAndTheNewestRevisionWins() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let changed1 = try await scratch.upsert(pg, [lead(1), lead(2)])
        let replay = try await scratch.upsert(pg, [lead(1), lead(2)])
        let newer = try await scratch.upsert(pg, [lead(1, revision: 3)])
        let older = try await scratch.upsert(pg, [lead(1, revision: 2)])
        // Several versions of one lead in one batch: the highest revision is stored.
        let mixed = try await scratch.upsert(pg, [lead(2, revision: 2), lead(2, revision: 4), lead(2, revision: 3)])
        #expect([changed1, replay, newer, older, mixed] == [2, 0, 1, 0, 1])
        let rows = try await scratch.rows(pg, "SELECT call_id, revision, disposition, talk_seconds FROM $schema.lead ORDER BY call_id")
        #expect(rows == [["call-1", "3", "answered", "60"], ["call-2", "4", "answered", "90"]])
        let sync = try await scratch.rows(pg, "SELECT lead_id, state FROM $schema.crm_sync ORDER BY lead_id")
        #expect(sync == [["call-1", "pending"], ["call-2", "pending"]])
    }

    @Test func aChangedLeadGoesBackToPendingForTheCRM() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        try await scratch.upsert(pg, [lead(1)])
        _ = try await scratch.rows(pg, "UPDATE $schema.crm_sync SET state = 'synced', attempts = 1, external_id = 'deal-9' RETURNING 1")
        try await scratch.upsert(pg, [lead(1, revision: 2)])
        let sync = try await scratch.rows(pg, "SELECT state, attempts, external_id FROM $schema.crm_sync")
        #expect(sync == [["pending", "0", "deal-9"]])
    }

    @Test func everyChangedLeadIsNotifiedOnceToAListener() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let listener = scratch.connection()
        try await listener.listen(scratch.schema.channel)
        async let received = collect(listener, count: 4)
        try await scratch.upsert(pg, [lead(1), lead(2), lead(3)])
        try await scratch.upsert(pg, [lead(1), lead(2)]) // replay: silent
        try await scratch.upsert(pg, [lead(2, revision: 2)])
        #expect(try await received.map(\.payload) == ["call-1", "call-2", "call-3", "call-2"])
    }

    @Test func badTextIsRepairedOrTruncatedNotRefused() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var change = lead(1, callerName: LeadText.repaired([0x49, 0x76, 0xFF, 0xFE, 0x00, 0x61, 0x6E]))
        change.userAgent = String(repeating: "Mozilla/5.0 (X11) ", count: 600) // ~10 KB
        change.answeredBy = "agent\u{0}7"
        change.journey = #"[{"session_id":"s\u0000","at":1789000000,"source":"bad\u0000source"}]"#
        try await scratch.upsert(pg, [change])
        let row = try await scratch.rows(pg, """
            SELECT caller_name, octet_length(user_agent), answered_by, journey -> 0 ->> 'source' FROM $schema.lead
            """)
        #expect(row == [["Iv\u{FFFD}\u{FFFD}an", String(LeadChange.Limits.userAgent), "agent7", "bad\u{FFFD}source"]])
    }

    @Test func attributionViewsSplitCreditOverTheJourney() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var change = lead(1)
        // Three touches: 14 days, 7 days and 0 days before the call.
        let call = change.startedAt.secondsSinceEpoch
        change.journey = "[" + [14.0, 7, 0].enumerated().map { index, days in
            #"{"session_id":"s\#(index)","at":\#(call - days * 86_400),"source":"src\#(index)","channel":"paid_search"}"#
        }.joined(separator: ",") + "]"
        try await scratch.upsert(pg, [change])
        func credits(_ view: String) async throws -> [Double] {
            try await scratch.rows(pg, "SELECT credit FROM $schema.\(view) ORDER BY position").map { Double($0[0]!)! }
        }
        #expect(try await credits("attribution_linear") == [1.0 / 3, 1.0 / 3, 1.0 / 3])
        #expect(try await credits("attribution_position_based") == [0.4, 0.2, 0.4])
        let decay = try await credits("attribution_time_decay")
        // Weights 1/4, 1/2, 1 → credits 1/7, 2/7, 4/7.
        #expect(zip(decay, [1.0 / 7, 2.0 / 7, 4.0 / 7]).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(try await scratch.rows(pg, "SELECT source FROM $schema.attribution_first_touch") == [["google"]])
        #expect(try await scratch.rows(pg, "SELECT source FROM $schema.attribution_last_touch") == [["newsletter"]])
    }

    @Test func timestampsAreStoredToTheMicrosecond() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var change = lead(1)
        change.startedAt = Timestamp(microsecondsSinceEpoch: 1_709_251_199_999_999) // 2024-02-29 23:59:59.999999
        change.answeredAt = Timestamp(microsecondsSinceEpoch: -1) // 1969-12-31 23:59:59.999999
        try await scratch.upsert(pg, [change])
        let row = try await scratch.rows(pg, """
            SELECT (extract(epoch FROM started_at) * 1000000)::bigint, (extract(epoch FROM answered_at) * 1000000)::bigint FROM $schema.lead
            """)
        #expect(row == [["1709251199999999", "-1"]])
    }

    /// The batch travels as binary arrays: every type of column arrives as the change says, NULLs
    /// where a value is absent, in rows that mix both.
    @Test func everyColumnTypeArrivesFromTheBinaryArrays() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var full = lead(1)
        full.revision = Int64.max
        full.answeredAt = Timestamp(microsecondsSinceEpoch: 946_684_799_999_999) // a microsecond before 2000
        full.endedAt = Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_001) // after 2100
        full.talkSeconds = 3_000_000_000 // past integer's range: kept at the bound, the lead is not refused
        full.ringSeconds = 7
        full.matchConfidence = 0.3333333333333333
        full.candidateCount = 2
        full.isLead = false
        full.junkReason = "short_talk"
        full.repeatOf = "call-0"
        full.answeredBy = "PJSIP/101"
        full.callerName = "Ёлка\u{0}☎" // the NUL is dropped
        full.firstTouch = #"{"source":"яндекс","at":1.5e9}"#
        var bare = LeadChange(callID: "call-2", revision: 0, siteID: "acme", trackingNumber: "+74950000002",
                              startedAt: Timestamp(microsecondsSinceEpoch: 0), matchKind: "unmatched", matchConfidence: 0,
                              candidateCount: 0, changedAt: Timestamp(microsecondsSinceEpoch: 1))
        bare.disposition = "no_answer"
        try await scratch.upsert(pg, [full, bare])
        let rows = try await scratch.rows(pg, """
            SELECT call_id, revision, (extract(epoch FROM started_at) * 1000000)::bigint,
                   (extract(epoch FROM answered_at) * 1000000)::bigint, (extract(epoch FROM ended_at) * 1000000)::bigint,
                   talk_seconds, ring_seconds, match_confidence = 0.3333333333333333, candidate_count, is_lead,
                   junk_reason, repeat_of, answered_by, caller_name, first_touch ->> 'source', (first_touch ->> 'at')::float8,
                   journey::text, caller IS NULL, visitor_id IS NULL, user_agent IS NULL, last_touch IS NULL, dealer_id IS NULL,
                   (extract(epoch FROM updated_at) * 1000000)::bigint
            FROM $schema.lead ORDER BY call_id
            """)
        #expect(rows.count == 2)
        #expect(rows.first == [
            "call-1", "\(Int64.max)", "\(full.startedAt.microsecondsSinceEpoch)", "946684799999999", "4102444800000001",
            "2147483647", "7", "t", "2", "f", "short_talk", "call-0", "PJSIP/101", "Ёлка☎", "яндекс", "1500000000",
            #"[{"at": 1789000000, "medium": "cpc", "source": "google", "channel": "paid_search", "session_id": "s0-1"}, {"at": 1789990000, "medium": "email", "source": "newsletter", "channel": "email", "session_id": "s-1"}]"#,
            "f", "f", "f", "f", "f", "\(full.changedAt.microsecondsSinceEpoch)",
        ])
        #expect(rows.last == [
            "call-2", "0", "0", nil, nil, "0", "0", "f", "0", "t", nil, nil, nil, nil, nil, nil, "[]", "t", "t", "t", "t", "t", "1",
        ])
    }

    /// A touch that is an element of the journey travels as its index there; every touch arrives as
    /// the change says, whether sent that way or whole.
    @Test func touchesArriveWhetherSentAsJourneyIndexOrWhole() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let a = #"{"session_id":"s-a","at":1,"source":"x, ] [ } \" \\","channel":"referral"}"#
        let b = #"{"session_id":"s-b","at":2,"source":"google","channel":"paid_search"}"#
        let direct = #"{"session_id":"s-c","at":3,"source":null,"channel":"direct"}"#
        let cases: [(first: String?, last: String?, journey: String)] = [
            (a, b, "[\(a),\(b),\(direct)]"),        // last non-direct touch before a direct visit
            (a, a, "[\(a)]"),
            (b, b, "[\(a), \(b) ,\(a),\(b)]"),       // the first b for first, the last b for last
            (#"{"static":"billboard"}"#, #"{"static":"billboard"}"#, "[]"), // static numbers: not in the journey
            (a, nil, " [ \(a) ] "),
            (#"{"at":1, "session_id":"s-a"}"#, b, #"[{"session_id":"s-a","at":1},\#(b)]"#), // the same JSON, other text
        ]
        let changes = cases.enumerated().map { index, touches in
            var change = lead(index + 1)
            (change.firstTouch, change.lastTouch, change.journey) = touches
            return change
        }
        try await scratch.upsert(pg, changes)
        for (index, touches) in cases.enumerated() {
            let row = try await scratch.rows(pg, """
                SELECT first_touch = $1::jsonb, last_touch IS NOT DISTINCT FROM $2::jsonb, journey = $3::jsonb
                FROM $schema.lead WHERE call_id = $4
                """, [touches.first, touches.last, touches.journey, "call-\(index + 1)"])
            #expect(row == [["t", "t", "t"]], "case \(index + 1)")
        }
    }

    /// The batch travels as arrays: text that means something inside an array literal must arrive as written.
    @Test func textThatLooksLikeArraySyntaxArrivesAsWritten() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let names = [#"O"Brien \ Co"#, "{a,b}", "NULL", "", #"\""#, "comma, and } brace", "Ёлка ☎"]
        var changes = names.enumerated().map { index, name in lead(index + 1, callerName: name) }
        changes[0].answeredBy = nil
        changes[1].junkReason = "NULL"
        try await scratch.upsert(pg, changes)
        let rows = try await scratch.rows(pg, """
            SELECT caller_name, answered_by IS NULL, coalesce(junk_reason, '<null>') FROM $schema.lead ORDER BY call_id
            """)
        #expect(rows.map { $0[0] } == names.map { Optional($0) })
        #expect(rows.contains { $0[1] == "t" })
        #expect(rows.contains { $0[2] == "NULL" })
    }
}
