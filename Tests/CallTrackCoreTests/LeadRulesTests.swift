import CallTrackCore
import Testing

@Suite("Lead rules: junk and the uniqueness scope")
struct LeadRulesTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let caller = try! PhoneNumber.e164("+79161234567")

    static func call(caller: PhoneNumber? = caller, withheld: Bool = false, disposition: String? = nil, talk: Double? = nil) -> CallRecord {
        var call = CallRecord(id: "c", revision: 1, trackingNumber: try! PhoneNumber.e164("+74950000001"), dialled: "74950000001",
                              caller: caller, callerRaw: caller?.e164 ?? (withheld ? "anonymous" : "unknown"),
                              callerWithheld: withheld, startedAt: t)
        call.disposition = disposition
        call.talkSeconds = talk
        return call
    }

    @Test("junk: blocked caller, then anonymous, then short talk; a call still ringing is never short")
    func junkReasons() {
        var rules = LeadRules()
        rules.blockList = [Self.caller]
        #expect(rules.junkReason(Self.call(disposition: "answered", talk: 2)) == .blockedCaller, "the block list outranks the talk")
        rules.blockList = []
        #expect(rules.junkReason(Self.call(caller: nil, withheld: true)) == .anonymous)
        #expect(rules.junkReason(Self.call(caller: nil)) == .callerNotANumber)
        #expect(rules.junkReason(Self.call(disposition: "answered", talk: 9.9)) == .shortTalk)
        #expect(rules.junkReason(Self.call(disposition: "answered", talk: 10)) == nil)
        #expect(rules.junkReason(Self.call()) == nil, "ringing: talk unknown yet")
        #expect(rules.junkReason(Self.call(disposition: "no_answer", talk: 0)) == nil, "a missed call is a lead to call back")
        rules.anonymousIsJunk = false
        #expect(rules.junkReason(Self.call(caller: nil, withheld: true)) == nil)
        rules.minTalkSeconds = 0
        #expect(rules.junkReason(Self.call(disposition: "answered", talk: 0)) == nil)
    }

    @Test("a call is a lead unless junk or a repeat")
    func isLead() {
        let rules = LeadRules()
        #expect(rules.isLead(junkReason: nil, repeatOf: nil))
        #expect(!rules.isLead(junkReason: .shortTalk, repeatOf: nil))
        #expect(!rules.isLead(junkReason: nil, repeatOf: "call-1"))
    }

    @Test("the scope decides which open leads a call may repeat; the window ends at the call")
    func repeatSearch() {
        var rules = LeadRules()
        rules.uniquenessWindow = .seconds(7 * 86_400)
        let global = rules.repeatSearch(at: Self.t, site: "acme", dealer: "d1")
        #expect(global == LeadRules.RepeatSearch(since: Self.t - .seconds(7 * 86_400), before: Self.t, partition: .all))
        rules.uniquenessScope = .site
        #expect(rules.repeatSearch(at: Self.t, site: "acme", dealer: "d1").partition == .site("acme"))
        rules.uniquenessScope = .dealer
        #expect(rules.repeatSearch(at: Self.t, site: "acme", dealer: "d1").partition == .dealer("d1"))
        #expect(rules.repeatSearch(at: Self.t, site: "acme", dealer: nil).partition == .dealer(nil))
    }
}
