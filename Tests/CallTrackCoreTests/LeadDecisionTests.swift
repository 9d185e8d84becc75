import CallTrackCore
import Testing

/// One call change decided from what the store held (`LeadDecision.decide`): handled already, a call without a
/// lead, a lead opened (and the caller bound), a lead brought up to date, and the repeats of a lead that turns junk.
@Suite("Lead decision: one call change from its facts")
struct LeadDecisionTests {
    static let t = LeadTests.t
    static let number = LeadTests.number
    static let caller = LeadTests.caller

    static func opened(_ call: CallRecord, _ facts: LeadFacts = LeadTests.facts()) -> CallFacts.Opened {
        CallFacts.Opened(number: number, match: CallMatcher.match(facts.matchQuery(for: call, number: number)), facts: facts)
    }

    static func stored(_ lead: Lead?, id: String = "c1", callRevision: Int) -> StoredLead {
        let call = lead?.leadCall ?? LeadCall(id: id, startedAt: t, person: nil, caller: caller, siteID: "acme", dealerID: nil)
        return StoredLead(callID: id, callRevision: callRevision, leadCall: call, lead: lead)
    }

    static func change(_ decision: LeadDecision) -> LeadDecision.Change? {
        if case .store(let change) = decision { return change }
        return nil
    }

    /// `call` ended after `talk` seconds of an answered call.
    static func ended(_ call: CallRecord, talk: Double, revision: Int = 3) -> CallRecord {
        var call = call
        call.revision = revision
        call.answeredAt = call.startedAt + .seconds(5)
        call.endedAt = call.startedAt + .seconds(5 + Int64(talk))
        call.disposition = "answered"
        call.talkSeconds = talk
        return call
    }

    @Test("a change at or below the stored lead's call revision is handled already; a new change of an untracked number stores the call only")
    func handledAndCallOnly() throws {
        let call = LeadTests.ringing()
        let lead = LeadTests.open(call, LeadTests.facts())
        for revision in [1, 2] {
            let facts = CallFacts(stored: Self.stored(lead, callRevision: revision), opening: Self.opened(call))
            guard case .handled = LeadDecision.decide(call, facts: facts, rules: LeadRules(), at: Self.t) else {
                Issue.record("revision 1 over a lead stored at call revision \(revision) was decided again")
                continue
            }
        }
        guard case .callOnly = LeadDecision.decide(call, facts: CallFacts(), rules: LeadRules(), at: Self.t) else {
            Issue.record("a call to an untracked number got a lead")
            return
        }
    }

    @Test("a new call matched to a visit opens its lead and binds the caller to the visitor; an unmatched one binds nothing")
    func openAndBind() throws {
        let call = LeadTests.ringing()
        let change = try #require(Self.change(LeadDecision.decide(call, facts: CallFacts(opening: Self.opened(call)), rules: LeadRules(), at: Self.t)))
        #expect(change.opened)
        #expect(change.lead.match.kind == .exact && change.lead.revision == 1 && change.lead.isLead)
        #expect(change.binding?.phone == Self.caller && change.binding?.visitor == "v1")
        #expect(change.redecided.isEmpty)

        var noLeases = LeadTests.facts()
        noLeases.leases = []
        noLeases.defaultSource = MarketingSource(utmSource: "site-phone")
        let unmatched = try #require(Self.change(LeadDecision.decide(
            call, facts: CallFacts(opening: Self.opened(call, noLeases)), rules: LeadRules(), at: Self.t)))
        #expect(unmatched.lead.match.kind == .unmatched)
        #expect(unmatched.binding == nil, "a call nobody's visit explains binds its caller to nobody")
        #expect(unmatched.lead.firstTouch?.source == "site-phone")
    }

    @Test("a stored row whose lead cannot be read is opened again, without binding the caller a second time")
    func unreadableRowOpensAgain() throws {
        let call = LeadTests.ringing()
        var next = call
        next.revision = 2
        let facts = CallFacts(stored: Self.stored(nil, callRevision: 1), opening: Self.opened(call))
        let change = try #require(Self.change(LeadDecision.decide(next, facts: facts, rules: LeadRules(), at: Self.t)))
        #expect(change.opened)
        #expect(change.lead.revision == 2 && change.lead.match.kind == .exact)
        #expect(change.binding == nil)
    }

    @Test("a stored lead is brought up to the call's answer: not opened again, its match kept, no binding")
    func updateStored() throws {
        let call = LeadTests.ringing()
        let lead = LeadTests.open(call, LeadTests.facts())
        var answered = call
        answered.revision = 2
        answered.answeredAt = Self.t + .seconds(4)
        // Facts of another match must not matter: the stored lead's match stands.
        let facts = CallFacts(stored: Self.stored(lead, callRevision: 1))
        let change = try #require(Self.change(LeadDecision.decide(answered, facts: facts, rules: LeadRules(), at: Self.t + .seconds(4))))
        #expect(!change.opened)
        #expect(change.lead.revision == 2 && change.lead.disposition == .answered)
        #expect(change.lead.match == lead.match && change.binding == nil && change.redecided.isEmpty)
    }

    @Test("only a lead that turns junk with this change needs its repeats: not a repeat, not a junk lead, not a good talk")
    func turnsJunk() {
        let call = LeadTests.ringing()
        let lead = LeadTests.open(call, LeadTests.facts())
        let rules = LeadRules()
        #expect(LeadDecision.turnsJunk(lead, with: Self.ended(call, talk: 3), rules: rules))
        #expect(!LeadDecision.turnsJunk(lead, with: Self.ended(call, talk: 60), rules: rules))
        var repeated = lead
        repeated.repeatOf = "c0"
        #expect(!LeadDecision.turnsJunk(repeated, with: Self.ended(call, talk: 3), rules: rules), "a repeat has no repeats of its own")
        var junk = lead
        junk.junkReason = .shortTalk
        #expect(!LeadDecision.turnsJunk(junk, with: Self.ended(call, talk: 3), rules: rules), "already junk: its repeats were decided then")
    }

    @Test("a lead that turns junk takes its repeats with it: the first becomes the lead, the next repeats it, an unreadable one is reported")
    func junkRedecidesRepeats() throws {
        let rules = LeadRules()
        let a = LeadTests.ringing("A", at: Self.t)
        let leadA = LeadTests.open(a, LeadTests.facts())
        func repeatOfA(_ id: String, minutes: Int64) -> Lead {
            var lead = LeadTests.open(LeadTests.ringing(id, at: Self.t + .seconds(minutes * 60)), LeadTests.facts())
            lead.repeatOf = "A"
            return lead
        }
        let b = repeatOfA("B", minutes: 5)
        let c = repeatOfA("C", minutes: 9)
        let repeats = RepeatFacts(junked: "A", repeats: [
            Self.stored(c, id: "C", callRevision: 1), Self.stored(b, id: "B", callRevision: 1),
            Self.stored(nil, id: "D", callRevision: 1),
        ], leads: [])
        // D's row is unreadable, but its columns say it repeats A.
        var facts = CallFacts(stored: Self.stored(leadA, id: "A", callRevision: 1), repeats: repeats)
        facts.repeats?.repeats[2].leadCall.repeatOf = "A"
        facts.repeats?.repeats[2].leadCall.startedAt = Self.t + .seconds(600)
        let change = try #require(Self.change(LeadDecision.decide(Self.ended(a, talk: 3), facts: facts, rules: rules, at: Self.t + .seconds(900))))
        #expect(change.lead.junkReason == .shortTalk)
        #expect(change.redecided.map(\.lead.callID) == ["B", "C"])
        #expect(change.redecided.map(\.lead.repeatOf) == [nil, "B"])
        #expect(change.redecided.map(\.decidedFrom) == [b.revision, c.revision], "each is written only over the revision it was decided from")
        #expect(change.redecided.allSatisfy { $0.lead.revision == $0.decidedFrom + 1 })
        #expect(change.unreadableRepeats == ["D"])

        // A good talk keeps A a lead: its repeats stay as they are, whatever the facts hold.
        let kept = try #require(Self.change(LeadDecision.decide(Self.ended(a, talk: 60), facts: facts, rules: rules, at: Self.t + .seconds(900))))
        #expect(kept.lead.isLead && kept.redecided.isEmpty)
    }
}
