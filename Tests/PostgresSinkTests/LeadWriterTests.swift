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
        #expect(applied.flatMap { $0 }.sorted() == [1, 2, 3, 4, 5, 6, 7], "each version is applied once, by one of the two daemons")
        #expect(try await a.withSession { session throws(PostgresError) in try schema.migrate(session) } == [])
        #expect(try await a.withSession { session throws(PostgresError) in try schema.version(session) } == 7)
        let foreignKeys = try await scratch.rows(a, "SELECT count(*) FROM pg_constraint WHERE conrelid = '$schema.crm_sync'::regclass AND contype = 'f'")
        #expect(foreignKeys == [["0"]])
    }

    @Test func aCallNobodySawEndIsStoredWithAnUnknownOutcome() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var unseen = lead(1, revision: 3)
        unseen.disposition = .unknown
        unseen.talkSeconds = 0
        #expect(try await scratch.upsert(pg, [unseen]) == 1)
        #expect(try await scratch.rows(pg, "SELECT disposition, is_lead FROM $schema.lead") == [["unknown", "t"]])
        await #expect(throws: PostgresError.self, "the schema still admits only the dispositions calltrackd writes") {
            try await pg.query("UPDATE \(scratch.schema.qualified("lead")) SET disposition = 'lost'")
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
        change.journey = [Touch(sessionID: "s\u{0}", at: Timestamp(secondsSinceEpoch: 1_789_000_000), channel: .referral, source: "bad\u{0}source")]
        try await scratch.upsert(pg, [change])
        let row = try await scratch.rows(pg, """
            SELECT caller_name, octet_length(user_agent), answered_by, journey -> 0 ->> 'source' FROM $schema.lead
            """)
        #expect(row == [["Iv\u{FFFD}\u{FFFD}an", String(Lead.PostgresLimits.userAgent), "agent7", "bad\u{FFFD}source"]])
    }

    @Test func attributionViewsSplitCreditOverTheJourney() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var change = lead(1)
        // Three touches: 14 days, 7 days and 0 days before the call.
        let call = change.startedAt.secondsSinceEpoch
        change.journey = [14.0, 7, 0].enumerated().map { index, days in
            Touch(sessionID: "s\(index)", at: Timestamp(secondsSinceEpoch: call - days * 86_400), channel: .paidSearch, source: "src\(index)")
        }
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

    /// What CRM connectors and the attribution views read from the JSON columns, written out as they expect it.
    @Test func jsonColumnsKeepTheirShape() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var change = lead(1)
        let lease = Lease(poolID: "main", number: change.trackingNumber, sessionID: "s-1", visitorID: "v-1",
                          startedAt: Timestamp(secondsSinceEpoch: 1_789_999_700), lastActivityAt: Timestamp(secondsSinceEpoch: 1_789_999_990),
                          expiresAt: Timestamp(secondsSinceEpoch: 1_790_000_900))
        change.match.candidates = [MatchCandidate(lease), MatchCandidate(lease, rejectedBecause: "less recently active")]
        change.firstTouch = Touch(fixed: MarketingSource(utmSource: "billboard", utmMedium: "offline", utmCampaign: "ring-road"),
                                  at: Timestamp(secondsSinceEpoch: 1_790_000_001))
        try await scratch.upsert(pg, [change])
        let candidate = #"{"last_activity":"2026-09-21T14:13:10Z","lease_end":"2026-09-21T14:28:20Z","lease_start":"2026-09-21T14:08:20Z","session_id":"s-1","visitor_id":"v-1"}"#
        let rejected = String(candidate.dropLast()) + #","rejected_because":"less recently active"}"#
        let explanation = #"{"candidates":["# + candidate + "," + rejected + #"],"confidence":1,"kind":"exact","rule":"single live lease"}"#
        let row = try await scratch.rows(pg, """
            SELECT match_explanation = $1::jsonb, first_touch = $2::jsonb, last_touch = $3::jsonb, journey = $4::jsonb FROM $schema.lead
            """, [explanation,
                  #"{"at":1790000001,"campaign":"ring-road","channel":"offline","medium":"offline","session_id":"","source":"billboard"}"#,
                  #"{"at":1789990000,"channel":"email","medium":"email","session_id":"s-1","source":"newsletter"}"#,
                  #"[{"at":1789000000,"channel":"paid_search","medium":"cpc","session_id":"s0-1","source":"google"},{"at":1789990000,"channel":"email","medium":"email","session_id":"s-1","source":"newsletter"}]"#])
        #expect(row == [["t", "t", "t", "t"]])
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
        full.match.confidence = 0.3333333333333333
        full.match.candidateCount = 2
        full.junkReason = .shortTalk
        full.repeatOf = "call-0"
        full.answeredBy = "PJSIP/101"
        full.callerName = "Ёлка\u{0}☎" // the NUL is dropped
        full.firstTouch = Touch(sessionID: nil, at: Timestamp(secondsSinceEpoch: 1.5e9), channel: .organicSearch, source: "яндекс")
        var bare = Lead(callID: "call-2", siteID: "acme", trackingNumber: try PhoneNumber.e164("+74950000002"),
                        startedAt: Timestamp(microsecondsSinceEpoch: 0), match: Match(kind: .unmatched, confidence: 0, rule: "unknown caller"),
                        changedAt: Timestamp(microsecondsSinceEpoch: 1))
        bare.disposition = .noAnswer
        try await scratch.upsert(pg, [full, bare])
        let rows = try await scratch.rows(pg, """
            SELECT call_id, revision, (extract(epoch FROM started_at) * 1000000)::bigint,
                   (extract(epoch FROM answered_at) * 1000000)::bigint, (extract(epoch FROM ended_at) * 1000000)::bigint,
                   talk_seconds, ring_seconds, match_confidence = 0.3333333333333333, candidate_count, is_lead,
                   junk_reason, repeat_of, answered_by, caller_name, first_touch ->> 'source', (first_touch ->> 'at')::float8,
                   journey::text, caller = '', visitor_id IS NULL, user_agent IS NULL, last_touch IS NULL, dealer_id IS NULL,
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

    /// Every touch arrives as the lead has it: a last non-direct touch before a direct visit, a static number's
    /// touch outside the journey (with an empty session id), text with JSON and array syntax in it.
    @Test func touchesArriveAsTheLeadHasThem() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let a = Touch(sessionID: "s-a", at: Timestamp(secondsSinceEpoch: 1), channel: .referral, source: #"x, ] [ } " \"#)
        let b = Touch(sessionID: "s-b", at: Timestamp(secondsSinceEpoch: 2), channel: .paidSearch, source: "google")
        let direct = Touch(sessionID: "s-c", at: Timestamp(secondsSinceEpoch: 3), channel: .direct)
        let billboard = Touch(fixed: MarketingSource(utmSource: "billboard", utmMedium: "offline"), at: Timestamp(secondsSinceEpoch: 4))
        let cases: [(first: Touch?, last: Touch?, journey: [Touch])] = [
            (a, b, [a, b, direct]),
            (a, a, [a]),
            (billboard, billboard, []),
            (a, nil, [a]),
        ]
        let leads = cases.enumerated().map { index, touches in
            var changed = lead(index + 1)
            (changed.firstTouch, changed.lastTouch, changed.journey) = touches
            return changed
        }
        try await scratch.upsert(pg, leads)
        for (index, touches) in cases.enumerated() {
            let row = try await scratch.rows(pg, """
                SELECT first_touch ->> 'session_id', first_touch ->> 'source', last_touch ->> 'session_id',
                       jsonb_array_length(journey), journey -> 0 ->> 'source'
                FROM $schema.lead WHERE call_id = $1
                """, ["call-\(index + 1)"])
            #expect(row == [[touches.first?.sessionID ?? "", touches.first?.source, touches.last.map { $0.sessionID ?? "" },
                             String(touches.journey.count), touches.journey.first?.source]], "case \(index + 1)")
        }
    }

    /// The batch travels as arrays: text that means something inside an array literal must arrive as written.
    @Test func textThatLooksLikeArraySyntaxArrivesAsWritten() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let names = [#"O"Brien \ Co"#, "{a,b}", "NULL", "", #"\""#, "comma, and } brace", "Ёлка ☎"]
        var changes = names.enumerated().map { index, name in lead(index + 1, callerName: name) }
        changes[0].answeredBy = nil
        changes[1].repeatOf = "NULL"
        try await scratch.upsert(pg, changes)
        let rows = try await scratch.rows(pg, """
            SELECT caller_name, answered_by IS NULL, coalesce(repeat_of, '<null>') FROM $schema.lead ORDER BY call_id
            """)
        #expect(rows.map { $0[0] } == names.map { Optional($0) })
        #expect(rows.contains { $0[1] == "t" })
        #expect(rows.contains { $0[2] == "NULL" })
    }
}
