import CallTrackCore
import Foundation
import Testing

/// A lead from a call and what the store knew (`Lead.open`), then brought up to the call's answer and hangup.
@Suite("Lead: opened from a call and the facts, updated on answer and hangup")
struct LeadTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let number = try! PhoneNumber.e164("+74950000001")
    static let caller = try! PhoneNumber.e164("+79161234567")

    static func ringing(_ id: String = "c1", at start: Timestamp = t, caller: PhoneNumber? = caller) -> CallRecord {
        CallRecord(id: id, revision: 1, trackingNumber: number, dialled: "74950000001", caller: caller,
                   callerRaw: caller?.e164 ?? "anonymous", callerWithheld: caller == nil, callerName: "Ivan", startedAt: start)
    }

    static func session(_ id: String, visitor: VisitorID = "v1", at start: Timestamp, _ source: MarketingSource) -> SessionRecord {
        SessionRecord(id: id, visitorID: visitor, siteID: "acme", startedAt: start, lastActivityAt: start, source: source,
                      userAgent: "UA-\(id)", number: number, kind: .pool)
    }

    static let google = MarketingSource(utmSource: "google", utmMedium: "cpc", utmCampaign: "pumps")

    /// Facts with one live lease held by `s2`, the person's journey s1 (ad) → s2 (direct).
    static func facts() -> LeadFacts {
        let lease = Lease(poolID: "main", number: number, sessionID: "s2", visitorID: "v1", startedAt: t - .seconds(300),
                          lastActivityAt: t - .seconds(10), expiresAt: t + .seconds(900))
        return LeadFacts(
            siteID: "acme", dealerID: "north", cooldown: .seconds(900), leases: [lease], person: "v1",
            journey: [session("s1", at: t - .seconds(86_400), google), session("s2", at: t - .seconds(300), MarketingSource())])
    }

    static func open(_ call: CallRecord, _ facts: LeadFacts, rules: LeadRules = LeadRules()) -> Lead {
        let match = CallMatcher.match(facts.matchQuery(for: call, number: number))
        var lead = Lead.open(call, number: number, match: match, facts: facts, rules: rules, at: call.startedAt)
        lead.update(with: call, rules: rules, at: call.startedAt)
        return lead
    }

    @Test("a call to a leased number: exact, the session's browser, first touch the ad, last non-direct touch the ad, the journey in order")
    func openExact() {
        let lead = Self.open(Self.ringing(), Self.facts())
        #expect(lead.match.kind == .exact && lead.match.sessionID == "s2")
        #expect(lead.revision == 1 && lead.disposition == .ringing && lead.isLead)
        #expect(lead.visitorID == "v1" && lead.dealerID == "north" && lead.userAgent == "UA-s2")
        #expect(lead.firstTouch?.sessionID == "s1" && lead.firstTouch?.source == "google")
        #expect(lead.lastTouch?.sessionID == "s1", "the direct visit after the ad is not the last touch")
        #expect(lead.journey.map(\.sessionID) == ["s1", "s2"])
        #expect(lead.callerText == "+79161234567" && lead.callerName == "Ivan")
    }

    @Test("answered, then ended after 5 s of talk: revisions 2 and 3, the talk recorded, junk for a short talk")
    func updateOnAnswerAndHangup() {
        var call = Self.ringing()
        var lead = Self.open(call, Self.facts())
        call.revision = 2
        call.answeredAt = Self.t + .seconds(8)
        call.answeredBy = "Local/101@agents"
        lead.update(with: call, rules: LeadRules(), at: Self.t + .seconds(8))
        #expect(lead.revision == 2 && lead.disposition == .answered && lead.answeredBy == "Local/101@agents" && lead.isLead)
        call.revision = 3
        call.endedAt = Self.t + .seconds(13)
        call.disposition = "answered"
        call.ringSeconds = 7.6
        call.talkSeconds = 5
        lead.update(with: call, rules: LeadRules(), at: Self.t + .seconds(13))
        #expect(lead.revision == 3 && lead.talkSeconds == 5 && lead.ringSeconds == 8)
        #expect(lead.junkReason == .shortTalk && !lead.isLead)
        #expect(lead.changedAt == Self.t + .seconds(13))
    }

    @Test("a lead decided again keeps a revision above its call's, so the next call event still raises it")
    func revisionAfterRedecision() {
        var lead = Self.open(Self.ringing(), Self.facts())
        lead.repeatOf = "c0"
        lead.redecide(repeatOf: nil, at: Self.t + .seconds(1))
        #expect(lead.revision == 2 && lead.isLead)
        var call = Self.ringing()
        call.revision = 2
        call.answeredAt = Self.t + .seconds(3)
        lead.update(with: call, rules: LeadRules(), at: Self.t + .seconds(3))
        #expect(lead.revision == 3, "above the redecided revision, not the call's 2")
    }

    @Test("an open lead of the same caller within the window: the call repeats it")
    func repeatOfOpenLead() {
        var facts = Self.facts()
        facts.openLeads = [LeadCall(id: "c0", startedAt: Self.t - .seconds(3600), person: "v1", caller: Self.caller, siteID: "acme", dealerID: "north")]
        let lead = Self.open(Self.ringing(), facts)
        #expect(lead.repeatOf == "c0" && !lead.isLead)
    }

    @Test("a static number: its fixed source is the first and last touch, with no session")
    func staticNumber() {
        var facts = Self.facts()
        facts.leases = []
        facts.person = nil
        facts.journey = []
        facts.staticNumber = StaticNumber(number: Self.number, source: MarketingSource(utmSource: "billboard", utmMedium: "offline"))
        let lead = Self.open(Self.ringing(), facts)
        #expect(lead.match.kind == .static)
        #expect(lead.firstTouch == lead.lastTouch && lead.firstTouch?.source == "billboard" && lead.firstTouch?.sessionID == nil)
    }

    @Test("an unmatched call: the number's own default source is the first and last touch, so the CRM never sees an empty source")
    func unmatchedDefaultSource() {
        var facts = Self.facts()
        facts.leases = []
        facts.person = nil
        facts.journey = []
        facts.defaultSource = MarketingSource(utmSource: "site-phone", channel: .direct)
        let lead = Self.open(Self.ringing(caller: try! PhoneNumber.e164("+79030000000")), facts)
        #expect(lead.match.kind == .unmatched)
        #expect(lead.firstTouch?.source == "site-phone" && lead.lastTouch == lead.firstTouch && lead.firstTouch?.sessionID == nil)
        var matched = Self.facts()
        matched.defaultSource = facts.defaultSource
        #expect(Self.open(Self.ringing(), matched).firstTouch?.source == "google", "a matched call keeps its visit's source")
    }

    @Test("a withheld caller: junk as anonymous, the caller shown as Asterisk sent it")
    func anonymous() {
        let lead = Self.open(Self.ringing(caller: nil), Self.facts())
        #expect(lead.junkReason == .anonymous && lead.callerText == "anonymous" && lead.caller == nil)
    }

    @Test("a lead survives its JSON: what `calltrackd leads --json` shows reads back as the same lead")
    func jsonRoundTrip() throws {
        var lead = Self.open(Self.ringing(), Self.facts())
        lead.junkReason = .blockedCaller
        let data = try JSONEncoder().encode(lead)
        #expect(try JSONDecoder().decode(Lead.self, from: data) == lead)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["matchKind"] as? String == "exact" && object["isLead"] as? Bool == false)
        #expect(object["junkReason"] as? String == "blocked_caller" && object["caller"] as? String == "+79161234567")
        #expect((object["firstTouch"] as? [String: Any])?["source"] as? String == "google")
    }
}
