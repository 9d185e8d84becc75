import CallTrackCore

/// A small data set whose ROI figures are worked out by hand (see `ROIReportTests`): two days of spend on two
/// campaigns, four calls — one through both campaigns and won, one plain lead, one junk, one from a static
/// number (no journey) won — for two dealers.
public enum ROIFixture {
    public static let day1 = LocalDate(year: 2026, month: 12, day: 1)
    public static let day2 = LocalDate(year: 2026, month: 12, day: 2)

    public static func at(_ date: String) -> Timestamp {
        guard let t = parseUTC(date) else { preconditionFailure("bad fixture time \(date)") }
        return t
    }

    /// `2026-12-01T10:00` in UTC.
    static func parseUTC(_ text: String) -> Timestamp? {
        let parts = text.split(separator: "T")
        guard parts.count == 2, let day = LocalDate(String(parts[0])) else { return nil }
        let clock = parts[1].split(separator: ":").compactMap { Int64($0) }
        guard clock.count == 2 else { return nil }
        return day.utcMidnight + .seconds(clock[0] * 3600 + clock[1] * 60)
    }

    public static let costs: [AdCost] = [
        AdCost(day: day1, source: "google", medium: "cpc", campaign: "pumps", cost: Money(hundredths: 100_000, currency: "RUB")),
        AdCost(day: day1, source: "yandex", medium: "cpc", campaign: "valves", cost: Money(hundredths: 50_000, currency: "RUB")),
        AdCost(day: day2, source: "Google", medium: "CPC", campaign: "Pumps", cost: Money(hundredths: 30_000, currency: "RUB")),
    ]

    static func touch(_ session: String, _ at: String, _ source: String, _ campaign: String) -> Touch {
        Touch(sessionID: session, at: Self.at(at), channel: .paidSearch, source: source, medium: "cpc", campaign: campaign)
    }

    static func lead(_ id: String, _ start: String, journey: [Touch], first: Touch? = nil, dealer: String, junk: Bool = false,
                     won hundredths: Int64? = nil) -> Lead {
        let t = at(start)
        var lead = Lead(
            callID: id, revision: 3, siteID: "acme", trackingNumber: try! PhoneNumber.e164("+74950000001"),
            caller: try! PhoneNumber.e164("+7916555000\(id.suffix(1))"), startedAt: t, answeredAt: t + .seconds(5), endedAt: t + .seconds(90),
            disposition: .answered, talkSeconds: junk ? 3 : 85, ringSeconds: 5,
            match: Match(kind: journey.isEmpty ? .static : .exact, sessionID: journey.last?.sessionID, confidence: 1, rule: "fixture"),
            visitorID: "v-\(id)", firstTouch: first ?? journey.first, lastTouch: journey.last ?? first, journey: journey,
            dealerID: dealer, junkReason: junk ? .shortTalk : nil, changedAt: t + .seconds(90))
        if let hundredths {
            lead.record(DealOutcome(stage: .won, amount: Money(hundredths: hundredths, currency: "RUB"), at: t + .seconds(86_400 * 10),
                                    reportedBy: "api"), at: t + .seconds(86_400 * 10))
        }
        return lead
    }

    public static var leads: [Lead] {
        [
            lead("call-1", "2026-12-01T10:00", journey: [touch("s1a", "2026-11-25T09:00", "google", "pumps"),
                                                         touch("s1b", "2026-11-30T18:00", "yandex", "valves")],
                 dealer: "spb", won: 10_000_000),
            lead("call-2", "2026-12-01T12:00", journey: [touch("s2", "2026-12-01T11:50", "google", "pumps")], dealer: "moscow"),
            lead("call-3", "2026-12-02T09:00", journey: [touch("s3", "2026-12-02T08:55", "google", "pumps")], dealer: "spb", junk: true),
            lead("call-4", "2026-12-02T11:00", journey: [],
                 first: Touch(fixed: MarketingSource(utmSource: "site-phone", utmMedium: "call"), at: at("2026-12-02T11:00")),
                 dealer: "moscow", won: 2_000_000),
        ]
    }
}
