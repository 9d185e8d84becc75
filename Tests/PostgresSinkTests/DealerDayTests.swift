import CallTrackCore
import PostgresSink
import Testing
import TestSupport

/// Schema version 5 in a real PostgreSQL: a lead's dealer rule and reason are stored, and `dealer_day` counts each
/// dealer's calls per day next to the leads.
@Suite("PostgreSQL: the lead's dealer and the dealer_day view", .postgresCluster)
struct DealerDayTests {
    @Test func dealerRuleReasonAndTheDailyCounts() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var answered = lead(1, revision: 3)
        answered.dealerID = "spb"
        answered.dealerRule = .area
        answered.dealerReason = "region +7 812 → spb, priority 1, weight 1/1, open, 1 line busy (no limit)"
        answered.ringSeconds = 6
        var missed = lead(2, revision: 3)
        missed.dealerID = "spb"
        missed.dealerRule = .sticky
        missed.disposition = .noAnswer
        missed.answeredAt = nil
        missed.talkSeconds = 0
        missed.junkReason = .shortTalk
        var elsewhere = lead(3, revision: 3)
        elsewhere.dealerID = "moscow"
        elsewhere.dealerRule = .area
        #expect(try await scratch.upsert(pg, [answered, missed, elsewhere]) == 3)
        let stored = try await scratch.rows(pg, "SELECT call_id, dealer_id, dealer_rule, dealer_reason FROM $schema.lead ORDER BY call_id")
        #expect(stored.first == ["call-1", "spb", "area", answered.dealerReason])
        let day = try await scratch.rows(pg, """
            SELECT dealer_id, offered, answered, missed, talk_seconds, leads, junk, answer_seconds_p50
            FROM $schema.dealer_day ORDER BY dealer_id
            """)
        #expect(day == [
            ["moscow", "1", "1", "0", "\(elsewhere.talkSeconds)", "1", "0", "\(elsewhere.ringSeconds)"],
            ["spb", "2", "1", "1", "\(answered.talkSeconds)", "1", "1", "6"],
        ])
        await #expect(throws: PostgresError.self, "the schema admits only the rules routing makes") {
            try await pg.query("UPDATE \(scratch.schema.qualified("lead")) SET dealer_rule = 'coin_toss'")
        }
    }
}
