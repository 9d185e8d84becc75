import CallTrackCore
import Testing
import TestSupport

@Suite("Lead rules: which call is the lead, which repeats it")
struct LeadRepeatTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let minute: Duration = .seconds(60)
    static let day: Duration = .seconds(86_400)
    static let ivan = try! PhoneNumber.e164("+79161234567")
    static let olga = try! PhoneNumber.e164("+79169876543")

    static func call(
        _ id: String, at t: Timestamp, person: VisitorID? = "v1", caller: PhoneNumber? = ivan, site: String = "acme",
        dealer: String? = "north", junk: JunkReason? = nil, repeatOf: String? = nil
    ) -> LeadCall {
        LeadCall(id: id, startedAt: t, person: person, caller: caller, siteID: site, dealerID: dealer, junkReason: junk, repeatOf: repeatOf)
    }

    @Test("the lead a call repeats: same person or caller, within the window before it, in its scope; the latest wins")
    func repeatTarget() {
        var rules = LeadRules()
        rules.uniquenessWindow = Self.day * 7
        let a = Self.call("a", at: Self.t)
        let b = Self.call("b", at: Self.t + Self.day, person: "v2")
        let next = Self.call("n", at: Self.t + Self.day * 2)
        #expect(rules.repeatTarget(for: next, among: [a, b]) == "b", "same caller, the later lead")
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t + Self.day * 2, caller: Self.olga), among: [a, b]) == "a",
                "another phone of the same person")
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t + Self.day * 2, person: "v9", caller: Self.olga), among: [a, b]) == nil,
                "another person from another phone opens a lead")
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t + Self.day * 8), among: [a]) == nil, "after the window")
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t), among: [a]) == nil, "a call never repeats one that started with it")
        #expect(rules.repeatTarget(for: next, among: [Self.call("a", at: Self.t, junk: .shortTalk)]) == nil, "junk is no lead")
        #expect(rules.repeatTarget(for: next, among: [Self.call("a", at: Self.t, repeatOf: "z")]) == nil, "a repeat is no lead")
        rules.uniquenessScope = .site
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t + Self.day, site: "other"), among: [a]) == nil)
        rules.uniquenessScope = .dealer
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t + Self.day, dealer: "south"), among: [a]) == nil)
        #expect(rules.repeatTarget(for: Self.call("n", at: Self.t + Self.day, site: "other"), among: [a]) == "a")
    }

    @Test("the lead turned junk: its first real repeat becomes the lead, the later repeats point at it")
    func firstRepeatBecomesTheLead() {
        let rules = LeadRules()
        let repeats = [
            Self.call("c", at: Self.t + Self.minute * 9, repeatOf: "a"),
            Self.call("b", at: Self.t + Self.minute * 5, repeatOf: "a"),
            Self.call("j", at: Self.t + Self.minute * 7, junk: .shortTalk, repeatOf: "a"),
        ]
        let decided = rules.redecide(repeatsOf: "a", repeats: repeats, leads: [Self.call("a", at: Self.t)])
        #expect(decided.map(\.id) == ["b", "j", "c"], "oldest first")
        #expect(decided.map(\.repeatOf) == [nil, "b", "b"], "the junked lead is not a lead any more, even if passed")
        #expect(decided.map(\.isLead) == [true, false, false])
        #expect(decided.map(\.junkReason) == [nil, .shortTalk, nil], "a junk repeat stays junk, now beside the new lead")
    }

    @Test("the lead turned junk: an earlier lead still in the window takes its repeats; a junk repeat alone points nowhere")
    func earlierLeadTakesTheRepeats() {
        var rules = LeadRules()
        rules.uniquenessWindow = Self.day * 7
        let earlier = Self.call("old", at: Self.t - Self.day * 3)
        let repeats = [Self.call("b", at: Self.t + Self.day, repeatOf: "a"), Self.call("c", at: Self.t + Self.day * 5, repeatOf: "a")]
        let decided = rules.redecide(repeatsOf: "a", repeats: repeats, leads: [earlier])
        #expect(decided.map(\.repeatOf) == ["old", nil], "b repeats old; c is past the window of old and b is no lead: c is one")
        #expect(decided.map(\.isLead) == [false, true])
        let junkOnly = rules.redecide(repeatsOf: "a", repeats: [Self.call("j", at: Self.t + Self.minute, junk: .shortTalk, repeatOf: "a")], leads: [])
        #expect(junkOnly.map(\.repeatOf) == [nil])
        #expect(rules.redecide(repeatsOf: "a", repeats: [Self.call("x", at: Self.t + Self.minute, repeatOf: "other")], leads: []).isEmpty,
                "a call repeating another lead is not touched")
    }

    @Test("a missed, busy, abandoned, failed or unknown call from a real caller is a lead; short talk counts only when answered",
          arguments: ["no_answer", "busy", "abandoned", "failed", "unknown"])
    func missedCallsAreLeads(disposition: String) {
        let rules = LeadRules()
        var call = CallRecord(id: "m", revision: 3, trackingNumber: try! PhoneNumber.e164("+74950000001"), dialled: "74950000001",
                              caller: Self.ivan, callerRaw: Self.ivan.e164, callerWithheld: false, startedAt: Self.t)
        call.endedAt = Self.t + .seconds(20)
        call.disposition = disposition
        call.ringSeconds = 20
        call.talkSeconds = 0
        #expect(rules.junkReason(call) == nil, "nobody answered: the call a sales team most needs to return")
        var blocked = rules
        blocked.blockList = [Self.ivan]
        #expect(blocked.junkReason(call) == .blockedCaller, "only an explicit rule makes it junk")
    }

    // MARK: Property

    @Test("random call sequences with random outcomes: every repeat_of names a lead it may repeat; every non-junk call is a lead or repeats one",
          arguments: Array(0..<4))
    func everyRepeatNamesALead(shard: Int) {
        for seed in (0..<50).map({ UInt64(70_000 + shard * 100 + $0) }) {
            if let failure = Self.simulate(seed: seed, calls: 60) {
                Issue.record("seed \(seed): \(failure)")
                return
            }
        }
    }

    /// Starts and ends calls in time order, as the lead desk does: a call picks the lead it repeats at its start; at
    /// its end the junk rules judge it, and a lead that turned junk has its repeats decided again. Checks the
    /// invariants after every step; returns the first broken one.
    static func simulate(seed: UInt64, calls count: Int) -> String? {
        var rng = SeededRandom(seed: seed)
        var rules = LeadRules()
        rules.uniquenessWindow = .seconds(Int64.random(in: 600...(3 * 86_400), using: &rng))
        rules.uniquenessScope = rng.pick(LeadRules.Scope.allCases)
        rules.minTalkSeconds = 10
        let phones = (1...3).map { try! PhoneNumber.e164("+7916000000\($0)") }
        rules.blockList = [phones[2]]
        enum Step { case start(CallRecord, LeadCall), end(CallRecord) }
        var steps: [(at: Timestamp, order: Int, step: Step)] = []
        var clock = t
        for n in 0..<count {
            clock = clock + .seconds(Int64.random(in: 0...(rng.chance(0.2) ? 86_400 : 1_800), using: &rng))
            let caller: PhoneNumber? = rng.chance(0.1) ? nil : rng.pick(phones)
            let id = "c\(String(format: "%03d", n))"
            var record = CallRecord(id: id, revision: 1, trackingNumber: phones[0], dialled: phones[0].e164, caller: caller,
                                    callerRaw: caller?.e164 ?? "anonymous", callerWithheld: caller == nil, startedAt: clock)
            let call = LeadCall(id: id, startedAt: clock, person: rng.chance(0.3) ? nil : rng.pick(["v1", "v2"]), caller: caller,
                                siteID: rng.pick(["pumps", "valves"]), dealerID: rng.pick(["north", "south", nil]))
            steps.append((clock, n, .start(record, call)))
            let ring = Double.random(in: 1...40, using: &rng)
            record.revision = 3
            record.ringSeconds = ring
            record.disposition = rng.pick(["answered", "answered", "answered", "no_answer", "busy", "abandoned", "failed", "unknown"])
            if record.disposition == "answered" {
                let talk = Double.random(in: 0...(rng.chance(0.5) ? 15 : 600), using: &rng)
                record.answeredAt = clock + .milliseconds(Int64(ring * 1000))
                record.talkSeconds = talk
                record.endedAt = record.answeredAt! + .milliseconds(Int64(talk * 1000))
            } else {
                record.endedAt = clock + .milliseconds(Int64(ring * 1000))
            }
            steps.append((record.endedAt!, count + n, .end(record)))
        }
        steps.sort { ($0.at, $0.order) < ($1.at, $1.order) }

        var book: [String: LeadCall] = [:]
        for (_, _, step) in steps {
            switch step {
            case .start(let record, var call):
                call.junkReason = rules.junkReason(record)
                call.repeatOf = rules.repeatTarget(for: call, among: book.values)
                book[call.id] = call
            case .end(let record):
                var call = book[record.id]!
                let wasLead = call.isLead
                call.junkReason = rules.junkReason(record)
                book[call.id] = call
                if let talk = record.talkSeconds, record.disposition == "answered", talk < rules.minTalkSeconds,
                   call.junkReason == nil {
                    return "\(call.id): answered for \(talk) s, not junk"
                }
                if record.disposition != "answered", record.caller.map({ !rules.blockList.contains($0) }) ?? false, call.junkReason != nil {
                    return "\(call.id): \(record.disposition!) from a real caller is junk (\(call.junkReason!))"
                }
                if wasLead && !call.isLead {
                    let decided = rules.redecide(repeatsOf: call.id, repeats: book.values.filter { $0.repeatOf == call.id },
                                                 leads: book.values.filter(\.isLead))
                    for changed in decided { book[changed.id] = changed }
                }
            }
            // A call without a junk reason is a lead or repeats one: so every repeat_of must name a lead.
            for call in book.values {
                guard let target = call.repeatOf else { continue }
                guard let lead = book[target], lead.isLead else { return "\(call.id) repeats \(target), which is not a lead" }
                guard rules.mayRepeat(call, lead) else { return "\(call.id) repeats \(target) outside its window or scope" }
            }
        }
        // Junk and repeats are kept; every call is still there.
        return book.count == count ? nil : "\(count - book.count) calls lost"
    }
}
