import CallTrackCore
import Testing

/// What each change of a lead adds to its dealers' figures, and the figures over a period: the rules a sales
/// director reads the dealer table by.
@Suite("Dealer statistics: the tally of a lead's changes and the summary per dealer")
struct DealerStatsTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)  // 2027-01-15T08:00:00Z, a whole hour
    static let caller = try! PhoneNumber.e164("+74951234567")

    static func lead(dealer: String?, disposition: Lead.Disposition = .ringing, ended: Bool = false, ring: Int = 0, talk: Int = 0,
                     junk: JunkReason? = nil) -> Lead {
        Lead(callID: "c1", siteID: "acme", trackingNumber: try! PhoneNumber.e164("+74950000001"), caller: caller,
             callerRaw: caller.e164, startedAt: t + .seconds(125), endedAt: ended ? t + .seconds(200) : nil, disposition: disposition,
             talkSeconds: talk, ringSeconds: ring, match: Match(kind: .unmatched, confidence: 0, rule: "no lease"),
             dealerID: dealer, junkReason: junk, changedAt: t)
    }

    @Test("opening with a dealer offers it the call, in the hour the call started")
    func openingOffers() {
        let tally = DealerTally.change(from: nil, to: Self.lead(dealer: "north"))
        #expect(tally.hours.count == 1)
        #expect(tally.hours[0].dealer == "north" && tally.hours[0].offered == 1 && tally.hours[0].start == Self.t)
        #expect(tally.missedCall == nil)
        #expect(DealerTally.change(from: nil, to: Self.lead(dealer: nil)).isEmpty, "no dealer, nothing to count")
    }

    @Test("answered and ended: answered, its time to answer and talk time, and a lead")
    func answeredCall() {
        let ringing = Self.lead(dealer: "north")
        let ended = Self.lead(dealer: "north", disposition: .answered, ended: true, ring: 7, talk: 60)
        let tally = DealerTally.change(from: ringing, to: ended)
        #expect(tally.hours.map(\.dealer) == ["north"])
        let hour = tally.hours[0]
        #expect(hour.offered == 0, "offered when it opened, not again")
        #expect(hour.answered == 1 && hour.answerSeconds == [7] && hour.talkSeconds == 60 && hour.leads == 1 && hour.junk == 0)
        #expect(tally.missedCall == nil)
        #expect(DealerTally.change(from: ended, to: ended).isEmpty, "an ended lead changed again (a repeat decided again) adds nothing")
    }

    @Test("a failover leg answered: the new dealer is offered the call, the chosen one missed it")
    func failoverAnswered() {
        let tally = DealerTally.change(from: Self.lead(dealer: "north"), to: Self.lead(dealer: "south", disposition: .answered))
        let byDealer = Dictionary(uniqueKeysWithValues: tally.hours.map { ($0.dealer, $0) })
        #expect(byDealer["south"]?.offered == 1)
        #expect(byDealer["north"]?.missed == 1 && byDealer["north"]?.offered == 0)
    }

    @Test("unanswered (missed, busy, abandoned) from a number: a missed call to watch for a callback; junk counted")
    func unansweredCalls() {
        for (disposition, check) in [(Lead.Disposition.noAnswer, \DealerHour.missed), (.busy, \DealerHour.busy), (.abandoned, \DealerHour.abandoned)] {
            let tally = DealerTally.change(from: Self.lead(dealer: "north"),
                                           to: Self.lead(dealer: "north", disposition: disposition, ended: true, junk: .shortTalk))
            #expect(tally.hours.first?[keyPath: check] == 1)
            #expect(tally.hours.first?.junk == 1 && tally.hours.first?.leads == 0)
            #expect(tally.missedCall == MissedCall(callID: "c1", dealer: "north", caller: Self.caller, missedAt: Self.t + .seconds(200)))
        }
        let failed = DealerTally.change(from: Self.lead(dealer: "north"), to: Self.lead(dealer: "north", disposition: .failed, ended: true))
        #expect(failed.missedCall == nil, "a failed call never rang at the dealer")
    }

    @Test("a miss is called back only within the window; until the window closes it is waiting")
    func callbackWindow() {
        let window = Duration.seconds(1800)
        var miss = MissedCall(callID: "c1", dealer: "north", caller: Self.caller, missedAt: Self.t)
        #expect(miss.status(window: window, at: Self.t + .seconds(60)) == .waiting)
        #expect(miss.status(window: window, at: Self.t + .seconds(1800)) == .notCalledBack)
        miss.calledBackAt = Self.t + .seconds(600)
        #expect(miss.status(window: window, at: Self.t + .seconds(7200)) == .calledBack)
        miss.calledBackAt = Self.t + .seconds(1801)
        #expect(miss.status(window: window, at: Self.t + .seconds(7200)) == .notCalledBack, "too late to count")
    }

    @Test("the summary adds the hours, takes p50/p90 of the times to answer, judges the misses, and suggests a weight")
    func summary() {
        var a = DealerHour(dealer: "north", start: Self.t)
        a.offered = 8; a.answered = 6; a.missed = 2; a.answerSeconds = [3, 4, 5, 6, 7, 20]; a.talkSeconds = 600; a.leads = 5; a.junk = 1
        var b = DealerHour(dealer: "north", start: Self.t + .seconds(3600))
        b.offered = 2; b.answered = 2; b.answerSeconds = [8, 9]
        let misses = [
            MissedCall(callID: "m1", dealer: "north", caller: Self.caller, missedAt: Self.t),
            MissedCall(callID: "m2", dealer: "north", caller: Self.caller, missedAt: Self.t, calledBackAt: Self.t + .seconds(60)),
            MissedCall(callID: "m3", dealer: "north", caller: Self.caller, missedAt: Self.t + .seconds(7000)),
        ]
        let configured = [Dealer(id: "north", weight: 3, targets: ["PJSIP/n"]), Dealer(id: "quiet", targets: ["PJSIP/q"], autoWeight: true)]
        let stats = DealerStats.summarize(hours: [a, b], missed: misses, callbackWindow: .seconds(1800), at: Self.t + .seconds(7200),
                                          configured: configured)
        #expect(stats.map(\.dealer) == ["north", "quiet"], "configuration order; a dealer without calls is listed too")
        let north = stats[0]
        #expect(north.offered == 10 && north.answered == 8 && north.missed == 2 && north.talkSeconds == 600 && north.leads == 5)
        #expect(north.answerSecondsP50 == 6 && north.answerSecondsP90 == 20, "one slow answer in eight is the 90th percentile")
        #expect(north.missedNotCalledBack == 1 && north.calledBack == 1 && north.awaitingCallback == 1)
        #expect(north.answerRate == 0.8 && north.suggestedWeight == 8 && north.weight == 3 && !north.weightIsAuto)
        #expect(stats[1].suggestedWeight == nil && stats[1].weightIsAuto, "no calls, no suggestion")
    }

    @Test("suggested weights: proportional to the answer rate, 1…10, none before 10 calls")
    func suggestedWeights() {
        #expect(DealerStats.suggestedWeight(answered: 9, offered: 9) == nil)
        #expect(DealerStats.suggestedWeight(answered: 10, offered: 10) == 10)
        #expect(DealerStats.suggestedWeight(answered: 0, offered: 50) == 1)
        #expect(DealerStats.suggestedWeight(answered: 25, offered: 50) == 5)
    }

    @Test("where the CRM reports outcomes, a dealer who converts above the average gets more weight, one below less (½ to 2×)")
    func conversionScalesTheWeight() {
        #expect(DealerStats.suggestedWeight(answered: 40, offered: 50, conversion: 0.3, averageConversion: 0.2) == 10, "0.8 × 1.5, at most 10")
        #expect(DealerStats.suggestedWeight(answered: 40, offered: 50, conversion: 0.1, averageConversion: 0.2) == 4, "0.8 × 0.5")
        #expect(DealerStats.suggestedWeight(answered: 40, offered: 50, conversion: 0, averageConversion: 0.2) == 4, "never below half")
        #expect(DealerStats.suggestedWeight(answered: 25, offered: 50, conversion: 1, averageConversion: 0.1) == 10, "at most twice: 0.5 × 2")
        var hour = DealerHour(dealer: "north", start: Self.t)
        hour.offered = 50; hour.answered = 40
        var south = DealerHour(dealer: "south", start: Self.t)
        south.offered = 50; south.answered = 40
        let stats = DealerStats.summarize(hours: [hour, south], missed: [], callbackWindow: .seconds(1800), at: Self.t, conversions: [
            "north": DealerConversion(leads: 20, reported: 12, won: 6), "south": DealerConversion(leads: 20, reported: 10, won: 2),
        ])
        // Average 8 won of 40 leads = 0.2; north converts 0.3 (×1.5), south 0.1 (×0.5).
        #expect(stats.map(\.suggestedWeight) == [10, 4] && stats.map(\.won) == [6, 2] && stats[0].conversion == 0.3)
        // A CRM that reports nothing, or a dealer with too few leads, leaves the answer rate alone.
        let silent = DealerStats.summarize(hours: [hour], missed: [], callbackWindow: .seconds(1800), at: Self.t,
                                           conversions: ["north": DealerConversion(leads: 20, reported: 0, won: 0)])
        #expect(silent[0].suggestedWeight == 8 && silent[0].conversion == nil)
        let few = DealerStats.summarize(hours: [hour], missed: [], callbackWindow: .seconds(1800), at: Self.t,
                                        conversions: ["north": DealerConversion(leads: 9, reported: 9, won: 9)])
        #expect(few[0].suggestedWeight == 8 && few[0].conversion == nil)
    }

    @Test("hours are whole UTC hours, before the epoch too")
    func wholeHours() {
        #expect(DealerHour.hour(of: Self.t + .seconds(3599)) == Self.t)
        #expect(DealerHour.hour(of: Timestamp(secondsSinceEpoch: -1)) == Timestamp(secondsSinceEpoch: -3600))
    }
}
