import CallTrackCore
import Testing

/// What the CRM reports of a lead: amounts read exactly as CRMs and spreadsheets write them, one outcome per stage,
/// a report sent twice changing nothing.
@Suite("Deal outcomes and money")
struct DealOutcomeTests {
    @Test("amounts as CRMs write them become exact hundredths", arguments: [
        ("125000", 12_500_000), ("125000.5", 12_500_050), ("125 000,50", 12_500_050), ("125\u{00A0}000.05", 12_500_005),
        ("0", 0), ("0.01", 1), ("-3.10", -310), ("+7", 700), ("1000000000000", 100_000_000_000_000),
    ] as [(String, Int64)])
    func amounts(text: String, hundredths: Int64) throws {
        let money = try Money.parse(text, currency: "rub")
        #expect(money.hundredths == hundredths)
        #expect(money.currency == "RUB")
        #expect(try Money.parse(money.decimal, currency: "RUB") == money, "the decimal form reads back: \(money.decimal)")
    }

    @Test("what is not an amount or a currency is refused with what to write", arguments: [
        ("12.345", "RUB", "two decimals"), ("1.2.3", "RUB", "not an amount"), ("", "RUB", "not an amount"), ("abc", "RUB", "not an amount"),
        ("1e5", "RUB", "not an amount"), ("1000000000001", "RUB", "larger"), ("99999999999999999999", "RUB", "larger"),
        (".5", "RUB", "not an amount"), ("5", "RU", "currency code"), ("5", "рубль", "currency code"),
    ])
    func refused(text: String, currency: String, says: String) {
        do {
            let money = try Money.parse(text, currency: currency)
            Issue.record("\(text) \(currency) read as \(money)")
        } catch {
            #expect(error.description.contains(says), "\(error.description)")
        }
    }

    @Test("decimal text: two decimals, a point, no grouping")
    func decimalText() {
        #expect(Money(hundredths: 12_500_050, currency: "RUB").decimal == "125000.50")
        #expect(Money(hundredths: -310, currency: "RUB").decimal == "-3.10")
        #expect(Money(hundredths: 5, currency: "EUR").decimal == "0.05")
    }

    @Test("one outcome per stage: the same report changes nothing, a corrected one replaces it, each change raises the revision")
    func onePerStage() throws {
        var lead = Self.lead()
        let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let won = DealOutcome(stage: .won, amount: try Money.parse("125000", currency: "RUB"), crmDealID: "D-17", at: t, reportedBy: "api")
        var changed = lead.record(won, at: t)
        #expect(changed)
        #expect(lead.revision == 4 && lead.outcomes == [won] && lead.dealStage == .won)
        var again = won
        again.reportedBy = "postgres"
        changed = lead.record(again, at: t + .seconds(5))
        #expect(!changed, "the same report through another way counts once")
        #expect(lead.revision == 4 && lead.changedAt == t)
        let qualified = DealOutcome(stage: .qualified, at: t - .seconds(86_400), reportedBy: "api")
        changed = lead.record(qualified, at: t + .seconds(6))
        #expect(changed)
        #expect(lead.outcomes.map(\.stage) == [.qualified, .won], "kept in stage order")
        var corrected = won
        corrected.amount = try Money.parse("130000", currency: "RUB")
        changed = lead.record(corrected, at: t + .seconds(7))
        #expect(changed)
        #expect(lead.revision == 6 && lead.wonDeal?.amount?.hundredths == 13_000_000 && lead.outcomes.count == 2)
        #expect(lead.dealStage == .won, "a won deal outranks its qualification")
        // Lost after it was won (the deal fell through): the latest of won and lost is the stage now.
        changed = lead.record(DealOutcome(stage: .lost, at: t + .seconds(86_400), reportedBy: "api"), at: t + .seconds(8))
        #expect(changed)
        #expect(lead.dealStage == .lost)
    }

    @Test("a connector's report is checked: stage, amount with currency, deal id")
    func reportedChecks() throws {
        let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let ok = try DealOutcome.reported(stage: "won", amount: "99.90", currency: "eur", crmDealID: "42", at: t, by: "api")
        #expect(ok.amount == Money(hundredths: 9990, currency: "EUR") && ok.stage == .won)
        for (stage, amount, currency, deal, says) in [
            ("sold", nil, nil, nil, "qualified, won or lost"), ("won", "10", nil, nil, "without a currency"),
            ("won", nil, "RUB", nil, "currency without"), ("won", "-1", "RUB", nil, "negative"), ("won", nil, nil, "", "deal id"),
            ("won", nil, nil, "a\nb", "deal id"), ("won", nil, nil, String(repeating: "x", count: 201), "deal id"),
        ] as [(String, String?, String?, String?, String)] {
            do {
                let outcome = try DealOutcome.reported(stage: stage, amount: amount, currency: currency, crmDealID: deal, at: t, by: "api")
                Issue.record("accepted: \(outcome)")
            } catch {
                #expect(error.description.contains(says), "\(error.description)")
            }
        }
    }

    static func lead() -> Lead {
        Lead(callID: "c1", revision: 3, siteID: "acme", trackingNumber: try! PhoneNumber.e164("+74950000001"),
             startedAt: Timestamp(secondsSinceEpoch: 1_799_000_000), disposition: .answered,
             match: Match(kind: .unmatched, confidence: 0, candidateCount: 0, rule: "none"),
             changedAt: Timestamp(secondsSinceEpoch: 1_799_000_100))
    }
}
