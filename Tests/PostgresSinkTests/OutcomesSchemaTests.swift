import CallTrackCore
import Foundation
import PostgresSink
import Testing
import TestSupport

/// Schema version 6 in a real PostgreSQL: a lead's CRM outcomes land in `lead.outcomes` and the `lead_outcome`
/// view (amounts exact, as `numeric`); `outcome_report` hands connector-written outcomes to calltrackd once each;
/// `dealer_day` counts the unanswered calls called back within the window calltrackd publishes, and those not.
@Suite("PostgreSQL: outcomes, outcome_report and callbacks in dealer_day", .postgresCluster)
struct OutcomesSchemaTests {
    @Test("a won deal's amount is exact in lead_outcome; deal_stage says where the deal stands")
    func outcomesInTheLeadTable() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        var won = lead(1, revision: 3)
        won.record(DealOutcome(stage: .qualified, at: t0 + .seconds(3600), reportedBy: "api"), at: t0)
        won.record(DealOutcome(stage: .won, amount: try Money.parse("1234567.89", currency: "RUB"), crmDealID: "D-17",
                               at: t0 + .seconds(86_400), reportedBy: "postgres"), at: t0)
        let plain = lead(2, revision: 3)
        #expect(try await scratch.upsert(pg, [won, plain]) == 2)
        let stages = try await scratch.rows(pg, "SELECT call_id, deal_stage, jsonb_array_length(outcomes) FROM $schema.lead ORDER BY call_id")
        #expect(stages == [["call-1", "won", "2"], ["call-2", nil, "0"]])
        let outcomes = try await scratch.rows(pg, """
            SELECT call_id, stage, amount::text, currency, crm_deal_id, extract(epoch FROM occurred_at)::bigint::text, reported_by
            FROM $schema.lead_outcome ORDER BY stage
            """)
        #expect(outcomes == [
            ["call-1", "qualified", nil, nil, nil, "\(t0.microsecondsSinceEpoch / 1_000_000 + 3600)", "api"],
            ["call-1", "won", "1234567.89", "RUB", "D-17", "\(t0.microsecondsSinceEpoch / 1_000_000 + 86_400)", "postgres"],
        ])
        let revenue = try await scratch.rows(pg, "SELECT sum(amount)::text FROM $schema.lead_outcome WHERE stage = 'won'")
        #expect(revenue == [["1234567.89"]], "numeric sums exactly")
    }

    @Test("outcome_report: checked by the table, taken oldest first, settled once")
    func outcomeReportInbox() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        let table = scratch.schema.qualified("outcome_report")
        try await pg.execute("""
            INSERT INTO \(table) (call_id, stage, amount, currency, crm_deal_id, occurred_at)
            VALUES ('call-1', 'won', 99000.5, 'RUB', 'D-1', '2026-12-01T10:00:00Z'), ('call-2', 'qualified', NULL, NULL, NULL, '2026-12-01T11:00:00Z')
            """)
        for bad in ["('call-3', 'sold', NULL, NULL)", "('call-3', 'won', 10, NULL)", "('call-3', 'won', 10, 'rub')", "('call-3', 'won', -1, 'RUB')"] {
            await #expect(throws: PostgresError.self, "refused by the table: \(bad)") {
                try await pg.execute("INSERT INTO \(table) (call_id, stage, amount, currency) VALUES \(bad)")
            }
        }
        let reports = PostgresOutcomeReports(connection: pg, schema: scratch.schema)
        let waiting = try await reports.waiting(limit: 10)
        #expect(waiting.map(\.callID) == ["call-1", "call-2"])
        #expect(waiting.first?.amount == "99000.50" && waiting.first?.currency == "RUB" && waiting.first?.crmDealID == "D-1")
        #expect(waiting.first?.occurredAt == Timestamp(secondsSinceEpoch: 1_796_119_200))
        try await reports.settle(waiting[0].id, result: "recorded")
        try await reports.settle(waiting[0].id, result: "unchanged")
        #expect(try await reports.waiting(limit: 10).map(\.callID) == ["call-2"])
        let settled = try await scratch.rows(pg, "SELECT result, taken_at IS NOT NULL FROM $schema.outcome_report WHERE call_id = 'call-1'")
        #expect(settled == [["recorded", "t"]], "a row is settled once")
    }

    @Test("dealer_day: called back within the published window, not called back in time, still waiting; won deals")
    func callbacksInDealerDay() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        try await PostgresOutcomeReports(connection: pg, schema: scratch.schema).publish(settings: ["callback_window_seconds": "1800"])
        func missed(_ n: Int, ended: Timestamp, calledBack: Duration?) -> Lead {
            var l = lead(n, revision: 3)
            l.disposition = .noAnswer
            l.answeredAt = nil
            l.talkSeconds = 0
            l.startedAt = ended - .seconds(20)
            l.endedAt = ended
            l.calledBackAt = calledBack.map { ended + $0 }
            return l
        }
        let now = Timestamp(secondsSinceEpoch: Date().timeIntervalSince1970)
        var busy = missed(4, ended: t0 + .seconds(100), calledBack: nil)
        busy.disposition = .busy
        var anonymous = missed(5, ended: t0 + .seconds(100), calledBack: nil)
        anonymous.caller = nil
        anonymous.callerRaw = "anonymous"
        var won = lead(6, revision: 3)
        won.record(DealOutcome(stage: .won, amount: Money(hundredths: 100, currency: "RUB"), at: t0, reportedBy: "api"), at: t0)
        try await scratch.upsert(pg, [
            missed(1, ended: t0, calledBack: .seconds(600)),      // within 30 minutes
            missed(2, ended: t0, calledBack: .seconds(3600)),     // too late: counts as not called back
            missed(3, ended: t0, calledBack: nil),                // never
            busy, anonymous, won,
            missed(7, ended: now - .seconds(60), calledBack: nil), // the window is still open
        ])
        let days = try await scratch.rows(pg, """
            SELECT day::text, offered, missed, busy, called_back, missed_not_called_back, awaiting_callback, won
            FROM $schema.dealer_day ORDER BY day
            """)
        let day0 = t0.utc
        #expect(days.first == ["\(day0.year)-\(Timestamp.pad(day0.month, 2))-\(Timestamp.pad(day0.day, 2))", "6", "4", "1", "1", "3", "0", "1"],
                "call 1 called back; 2 (late), 3 and the busy 4 not; the anonymous 5 cannot be called back")
        #expect(days.last?[6] == "1", "call 7 still waits: \(days)")
        // The window calltrackd publishes decides: at 2 hours, call 2 was called back in time.
        try await PostgresOutcomeReports(connection: pg, schema: scratch.schema).publish(settings: ["callback_window_seconds": "7200"])
        let wider = try await scratch.rows(pg, "SELECT called_back, missed_not_called_back FROM $schema.dealer_day ORDER BY day LIMIT 1")
        #expect(wider == [["2", "2"]])
    }
}
