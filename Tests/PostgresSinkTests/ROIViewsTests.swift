import CallTrackCore
import PostgresSink
import Testing
import TestSupport

/// Schema version 7 in a real PostgreSQL: the ROI views on `ROIFixture` give the hand-computed figures, and for every
/// model and both groupings the same figures as `calltrackd report roi` (`ROIReport`) computes from the same data.
@Suite("PostgreSQL: ad_cost and the ROI views", .postgresCluster)
struct ROIViewsTests {
    @Test("roi_campaign_day and roi_dealer_day summed over the days equal the report, model by model")
    func viewsEqualTheReport() async throws {
        let scratch = try Scratch()
        let pg = try await scratch.migrated()
        #expect(try await scratch.upsert(pg, ROIFixture.leads) == 4)
        let imported = Timestamp(secondsSinceEpoch: 1_796_500_000)
        try await PostgresAdCosts(connection: pg, schema: scratch.schema).upsert(ROIFixture.costs.map { ($0, imported) })
        // An import again replaces, never adds.
        try await PostgresAdCosts(connection: pg, schema: scratch.schema).upsert(ROIFixture.costs.map { ($0, imported) })
        let stored = try await scratch.rows(pg, "SELECT day::text, source, campaign, cost::text, currency FROM $schema.ad_cost ORDER BY day, source")
        #expect(stored == [["2026-12-01", "google", "pumps", "1000.00", "RUB"], ["2026-12-01", "yandex", "valves", "500.00", "RUB"],
                           ["2026-12-02", "google", "pumps", "300.00", "RUB"]], "lower case, as touches match them")

        // By hand (linear): pumps 2.5 calls, 1.5 leads, 0.5 won, 50,000.00 revenue, 1,300.00 spent.
        let pumps = try await scratch.rows(pg, """
            SELECT sum(calls)::text, sum(leads)::text, sum(won)::text, round(sum(revenue), 2)::text, sum(cost)::text
            FROM $schema.roi_campaign_day WHERE model = 'linear' AND source = 'google' AND campaign = 'pumps'
            """)
        #expect(pumps == [["2.5", "1.5", "0.5", "50000.00", "1300.00"]])

        for model in AttributionModel.allCases {
            for grouping in ROIReport.Grouping.allCases {
                let report = ROIReport(leads: ROIFixture.leads, costs: ROIFixture.costs, from: ROIFixture.day1, through: ROIFixture.day2,
                                       model: model, by: grouping)
                let sql = grouping == .campaign
                    ? """
                      SELECT concat_ws(' / ', nullif(source, ''), nullif(medium, ''), nullif(campaign, '')) AS name, source, medium, campaign,
                             sum(calls), sum(leads), sum(won), sum(revenue) * 100, sum(cost) * 100
                      FROM $schema.roi_campaign_day WHERE model = $1 AND day BETWEEN '2026-12-01' AND '2026-12-02' GROUP BY 2, 3, 4
                      """
                    : """
                      SELECT dealer_id, '', '', '', sum(calls), sum(leads), sum(won), sum(revenue) * 100, sum(cost) * 100
                      FROM $schema.roi_dealer_day WHERE model = $1 AND day BETWEEN '2026-12-01' AND '2026-12-02' GROUP BY 1
                      """
                let rows = try await scratch.rows(pg, sql, [model.rawValue])
                #expect(rows.count == report.rows.count, "\(model) by \(grouping): \(rows)")
                for row in rows {
                    let name = grouping == .campaign
                        ? ROIReport.name(CampaignKey(source: row[1], medium: row[2], campaign: row[3])) : (row[0] ?? "")
                    guard let expected = report.rows.first(where: { $0.name == name }) else {
                        Issue.record("\(model) by \(grouping): PostgreSQL has \(name), the report does not")
                        continue
                    }
                    let figures = row[4...].map { Double($0 ?? "0") ?? .nan }
                    let wanted = [expected.calls, expected.leads, expected.won, expected.revenue, expected.cost]
                    for (got, want) in zip(figures, wanted) {
                        #expect(abs(got - want) < 1e-6 * max(1, abs(want)), "\(model) by \(grouping), \(name): \(figures) vs \(wanted)")
                    }
                }
            }
        }
    }
}
