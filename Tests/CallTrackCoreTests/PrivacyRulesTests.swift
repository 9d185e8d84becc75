import CallTrackCore
import Testing

/// What retention redacts when, and what an erasure takes from a lead (SPEC §Privacy).
@Suite("Privacy rules")
struct PrivacyRulesTests {
    static let day = Duration.seconds(86_400)
    static let now = Timestamp(secondsSinceEpoch: 1_900_000_000)
    static let phone = try! PhoneNumber.e164("+79161234567")

    static func lead(startedAt: Timestamp = now - day * 800) -> Lead {
        let ad = Touch(sessionID: "s_desk", at: startedAt - day, channel: .paidSearch, source: "google", medium: "cpc", campaign: "pumps",
                       referrer: "https://www.google.com/", landingURL: "https://acme.example/?gclid=abc", gclid: "abc")
        let candidates = [
            MatchCandidate(Lease(poolID: "main", number: try! .e164("+74950000001"), sessionID: "s_desk", visitorID: "v_desk",
                                 startedAt: startedAt - .seconds(60), lastActivityAt: startedAt, expiresAt: startedAt + .seconds(1200))),
            MatchCandidate(Lease(poolID: "main", number: try! .e164("+74950000001"), sessionID: "s_other", visitorID: "v_other",
                                 startedAt: startedAt - .seconds(90), lastActivityAt: startedAt, expiresAt: startedAt + .seconds(1200)),
                           rejectedBecause: "another visitor's"),
        ]
        return Lead(callID: "c1", revision: 3, siteID: "acme", trackingNumber: try! .e164("+74950000001"), caller: phone,
                    callerRaw: "89161234567", callerName: "Ivan Petrov", startedAt: startedAt, disposition: .answered, talkSeconds: 60,
                    match: Match(kind: .shared, sessionID: "s_desk", visitorID: "v_desk", confidence: 0.5, candidateCount: 2,
                                 candidates: candidates, rule: "collision"),
                    visitorID: "v_desk", userAgent: "Mozilla/5.0 (Desk)", firstTouch: ad, lastTouch: ad, journey: [ad],
                    dealerID: "north", changedAt: startedAt)
    }

    @Test("each kind is due once the visit or call is older than its period; the defaults keep phones two years")
    func dueByAge() {
        let policy = RetentionPolicy()
        #expect(policy.due(startedAt: Self.now - Self.day * 29, at: Self.now).isEmpty)
        #expect(policy.due(startedAt: Self.now - Self.day * 31, at: Self.now) == PersonalDataSet([.ipAddresses]))
        #expect(policy.due(startedAt: Self.now - Self.day * 91, at: Self.now) == PersonalDataSet([.ipAddresses, .userAgents]))
        #expect(policy.due(startedAt: Self.now - Self.day * 181, at: Self.now) == PersonalDataSet([.ipAddresses, .userAgents, .urls]))
        #expect(policy.due(startedAt: Self.now - Self.day * 731, at: Self.now) == .all)
        let short = RetentionPolicy(redactAfter: [.callers: Self.day * 7])
        #expect(short.due(startedAt: Self.now - Self.day * 8, at: Self.now) == PersonalDataSet([.callers]))
        #expect(short.redactAfter[.urls] == Self.day * 180, "a kind not configured keeps its default")
    }

    @Test("redacting callers empties the caller's number and name only, as the next revision")
    func redactCallers() throws {
        let lead = Self.lead()
        let redacted = try #require(lead.redacting([.callers], at: Self.now))
        #expect(redacted.caller == nil && redacted.callerRaw == "" && redacted.callerName == nil)
        #expect(redacted.revision == 4)
        #expect(redacted.changedAt == Self.now)
        #expect(redacted.userAgent == lead.userAgent)
        #expect(redacted.visitorID == "v_desk")
        #expect(redacted.match.kind == .shared && redacted.talkSeconds == 60 && redacted.dealerID == "north")
        #expect(redacted.redacting([.callers], at: Self.now) == nil, "nothing left to redact: no new revision")
    }

    @Test("redacting urls and sessions keeps each touch's source and the match's lease intervals")
    func redactVisits() throws {
        let redacted = try #require(Self.lead().redacting([.urls, .sessions, .userAgents], at: Self.now))
        let touch = try #require(redacted.firstTouch)
        #expect(touch.referrer == nil && touch.landingURL == nil && touch.gclid == nil)
        #expect(touch.source == "google" && touch.campaign == "pumps" && touch.channel == .paidSearch)
        #expect(redacted.visitorID == nil && redacted.match.visitorID == nil && redacted.userAgent == nil)
        #expect(redacted.match.candidates.map(\.visitorID) == ["", ""])
        #expect(redacted.match.candidates.map(\.leaseStart) == Self.lead().match.candidates.map(\.leaseStart))
        #expect(redacted.caller == Self.phone, "callers were not asked for")
    }

    @Test("erasing the person whose call it is leaves no identifier of theirs in the lead")
    func eraseOwner() throws {
        let person = ErasedPerson(visitors: ["v_desk", "v_phone"], sessions: ["s_desk"], phones: [Self.phone])
        let lead = Self.lead()
        #expect(person.owns(lead))
        let erased = try #require(lead.erasing(person, at: Self.now))
        let text = "\(erased)"
        for name in person.names.union(["Ivan Petrov", "89161234567", "Mozilla/5.0 (Desk)", "acme.example", "abc"]) {
            #expect(!text.contains(name), "\(name) survived the erasure")
        }
        #expect(erased.match.candidates.last?.visitorID == "v_other", "someone else's candidacy stays")
        #expect(erased.firstTouch?.source == "google")
        #expect(erased.journey.count == 1)
    }

    @Test("erasing someone who was only a rejected candidate of another's call takes only their candidacy")
    func eraseCandidate() throws {
        let person = ErasedPerson(visitors: ["v_other"], sessions: ["s_other"])
        let lead = Self.lead()
        #expect(!person.owns(lead))
        let erased = try #require(lead.erasing(person, at: Self.now))
        #expect(erased.caller == Self.phone && erased.visitorID == "v_desk")
        #expect(erased.match.candidates.last?.visitorID == "" && erased.match.candidates.last?.sessionID == "")
        #expect(ErasedPerson(visitors: ["v_nobody"]).owns(lead) == false)
        #expect(lead.erasing(ErasedPerson(visitors: ["v_nobody"]), at: Self.now) == nil)
    }
}
