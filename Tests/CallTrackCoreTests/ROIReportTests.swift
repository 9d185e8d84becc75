import CallTrackCore
import Testing
import TestSupport

/// Money per campaign and per dealer: the ad costs read from cabinet exports, the credit shared by the models, and
/// the ROI report on `ROIFixture`, whose figures are worked out by hand in the comments.
@Suite("Ad costs, attribution and the ROI report")
struct ROIReportTests {
    @Test("a cabinet export with a semicolon, decimal commas, day-first dates, quotes and a BOM")
    func cabinetExport() throws {
        let csv = "\u{FEFF}Day;UTM_Source;utm_medium;Campaign;Spend;Currency\r\n"
            + "01.12.2026;google;cpc;\"pumps; spring\";1 000,50;rub\r\n"
            + "01.12.2026;google;cpc;\"pumps; spring\";99,50;RUB\r\n"
            + "\r\n"
            + "2026-12-02;yandex;cpc;valves;300;RUB\r\n"
        let costs = try AdCostCSV.parse(csv)
        #expect(costs.count == 2, "two rows of one day and campaign are summed")
        #expect(costs[0] == AdCost(day: ROIFixture.day1, source: "google", medium: "cpc", campaign: "pumps; spring",
                                   cost: Money(hundredths: 110_000, currency: "RUB")))
        #expect(costs[1].day == ROIFixture.day2 && costs[1].cost.hundredths == 30_000)
        let noCurrency = try AdCostCSV.parse("date,source,medium,campaign,cost\n2026-12-01,google,cpc,pumps,10\n", currency: "eur")
        #expect(noCurrency.first?.cost == Money(hundredths: 1000, currency: "EUR"))
    }

    @Test("a file with bad rows is refused whole, each problem with its line")
    func refusedWhole() {
        let csv = "date,source,medium,campaign,cost,currency\n2026-12-01,google,cpc,pumps,10,RUB\n2026-13-01,google,cpc,pumps,10,RUB\n"
            + "2026-12-02,google,cpc,pumps,ten,RUB\n2026-12-03,google,cpc,pumps,-5,RUB\n2026-12-01,google,cpc,pumps,1,EUR\n"
        do {
            let costs = try AdCostCSV.parse(csv)
            Issue.record("accepted \(costs)")
        } catch {
            #expect(error.lines.count == 4, "\(error.lines)")
            #expect(error.lines[0].hasPrefix("line 3:") && error.lines[0].contains("not a date"))
            #expect(error.lines[1].hasPrefix("line 4:") && error.lines[1].contains("not an amount"))
            #expect(error.lines[2].hasPrefix("line 5:") && error.lines[2].contains("0 or more"))
            #expect(error.lines[3].hasPrefix("line 6:") && error.lines[3].contains("line 2 has RUB"))
        }
        for (text, says) in [("", "empty"), ("date,source,cost\n", "lacks medium, campaign"),
                             ("date,source,medium,campaign,cost\n2026-12-01,a,b,c,1\n", "no currency column")] {
            do {
                _ = try AdCostCSV.parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.contains(says), "\(error.description)")
            }
        }
    }

    @Test("every model shares a lead's credit to 1; a lead without a journey credits its one touch")
    func creditsSumToOne() {
        for lead in ROIFixture.leads {
            for model in AttributionModel.allCases {
                let credits = model.credits(lead)
                #expect(abs(credits.map(\.credit).reduce(0, +) - 1) < 1e-12, "\(lead.callID) \(model)")
            }
        }
        let first = ROIFixture.leads[0]
        #expect(AttributionModel.firstTouch.credits(first).map(\.campaign.campaign) == ["pumps"])
        #expect(AttributionModel.lastTouch.credits(first).map(\.campaign.campaign) == ["valves"])
        #expect(AttributionModel.linear.credits(first).map(\.credit) == [0.5, 0.5])
        // Time decay: the touch 6 days and 1 hour before the call weighs 0.5^(145/168) against 0.5^(16/168) for the other.
        let decay = AttributionModel.timeDecay.credits(first).map(\.credit)
        let (old, recent) = (0.549_771_780_8, 0.936_117_742_5)  // 2^(-145/168), 2^(-16/168)
        #expect(abs(decay[0] - old / (old + recent)) < 1e-6 && abs(decay[1] - recent / (old + recent)) < 1e-6, "\(decay)")
        #expect(AttributionModel.positionBased.credits(ROIFixture.leads[3]).map(\.campaign.source) == ["site-phone"])
    }

    @Test("by campaign, linear: the hand-computed figures")
    func byCampaign() throws {
        let report = ROIReport(leads: ROIFixture.leads, costs: ROIFixture.costs, from: ROIFixture.day1, through: ROIFixture.day2,
                               model: .linear, by: .campaign)
        #expect(report.currency == "RUB")
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.name, $0) })
        // google/cpc/pumps: half of call 1, call 2, call 3 (junk); 1,000 + 300 spent over the two days.
        let pumps = try #require(rows["google / cpc / pumps"])
        #expect(pumps.calls == 2.5 && pumps.leads == 1.5 && pumps.won == 0.5 && pumps.revenue == 5_000_000 && pumps.cost == 130_000)
        #expect(abs(pumps.costPerLead! - 130_000 / 1.5) < 1e-9 && abs(pumps.romi! - (5_000_000 - 130_000) / 130_000.0) < 1e-12)
        let valves = try #require(rows["yandex / cpc / valves"])
        #expect(valves.calls == 0.5 && valves.leads == 0.5 && valves.won == 0.5 && valves.revenue == 5_000_000 && valves.cost == 50_000)
        #expect(valves.romi == 99)
        let phone = try #require(rows["site-phone / call / (none)"])
        #expect(phone.calls == 1 && phone.leads == 1 && phone.won == 1 && phone.revenue == 2_000_000 && phone.cost == 0 && phone.romi == nil)
        #expect(report.rows.first?.name == "google / cpc / pumps", "most spend first")
        #expect(report.total.calls == 4 && report.total.leads == 3 && report.total.won == 2 && report.total.revenue == 12_000_000
                && report.total.cost == 180_000)
        // First touch gives call 1 wholly to pumps; valves keeps its spend and no call.
        let first = Dictionary(uniqueKeysWithValues: ROIReport(leads: ROIFixture.leads, costs: ROIFixture.costs, from: ROIFixture.day1,
                                                               through: ROIFixture.day2, model: .firstTouch, by: .campaign).rows.map { ($0.name, $0) })
        #expect(first["google / cpc / pumps"]?.calls == 3 && first["google / cpc / pumps"]?.revenue == 10_000_000)
        #expect(first["yandex / cpc / valves"]?.calls == 0 && first["yandex / cpc / valves"]?.cost == 50_000)
    }

    @Test("by dealer, linear: each campaign-day's spend shared by the calls it brought each dealer")
    func byDealer() throws {
        let report = ROIReport(leads: ROIFixture.leads, costs: ROIFixture.costs, from: ROIFixture.day1, through: ROIFixture.day2,
                               model: .linear, by: .dealer)
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.name, $0) })
        // Day 1 pumps (1,000): half a call for spb (call 1), one for moscow (call 2) → 333.33 and 666.67.
        // Day 1 valves (500): spb alone. Day 2 pumps (300): spb alone (call 3).
        let spb = try #require(rows["spb"]), moscow = try #require(rows["moscow"])
        #expect(spb.calls == 2 && spb.leads == 1 && spb.won == 1 && spb.revenue == 10_000_000)
        #expect(abs(spb.cost - (100_000.0 / 3 + 50_000 + 30_000)) < 1e-6)
        #expect(moscow.calls == 2 && moscow.leads == 2 && moscow.won == 1 && moscow.revenue == 2_000_000)
        #expect(abs(moscow.cost - 200_000.0 / 3) < 1e-6)
        #expect(rows[ROIReport.unattributed] == nil && abs(report.total.cost - 180_000) < 1e-6)
        // First touch: valves brought no call on day 1, so its 500 is unattributed.
        let first = ROIReport(leads: ROIFixture.leads, costs: ROIFixture.costs, from: ROIFixture.day1, through: ROIFixture.day2,
                              model: .firstTouch, by: .dealer)
        #expect(first.rows.first { $0.name == ROIReport.unattributed }?.cost == 50_000)
    }

    @Test("the span filters calls and costs by UTC day; another currency is left out and counted")
    func spanAndCurrency() {
        var costs = ROIFixture.costs
        costs.append(AdCost(day: ROIFixture.day2, source: "google", medium: "cpc", campaign: "pumps", cost: Money(hundredths: 999, currency: "EUR")))
        let day2 = ROIReport(leads: ROIFixture.leads, costs: costs, from: ROIFixture.day2, through: ROIFixture.day2, model: .linear, by: .campaign,
                             currency: "RUB")
        #expect(day2.total.calls == 2 && day2.total.cost == 30_000 && day2.otherCurrencyCosts == 1)
        // Without a currency named, the costs' most common one counts.
        let both = ROIReport(leads: ROIFixture.leads, costs: costs, from: ROIFixture.day1, through: ROIFixture.day2, model: .linear, by: .campaign)
        #expect(both.currency == "RUB" && both.total.cost == 180_000 && both.otherCurrencyCosts == 1)
    }
}
