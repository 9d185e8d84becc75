import CallTrackCore
import Logging
import Store
import Testing
import TestSupport

/// Random histories on a real state database — leads with and without dealers at random times (and their later
/// revisions), phones bound by calls and by visits, merges by shared identifiers and by connector links, erasures by
/// phone and by visitor, retention sweeps — with the in-memory sticky dealers loaded part-way through, while writes
/// go on. After every step, for every caller, what memory answers equals the store's read
/// (`LeadLedger.stickyDealer(caller:before:)`); long after the history it never has to ask the store.
@Suite("Sticky dealers in memory: equal to the store's read", .cpuBound)
struct StickyDealerIndexPropertyTests {
    static let seeds: [UInt64] = [1, 7, 42, 2026, 0xC0FFEE, 0x5EED]
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let number = try! PhoneNumber.e164("+74950000001")
    static let phones = (0..<8).map { try! PhoneNumber.e164("+7916000000\($0)") }
    static let visitors = (0..<10).map { "v\($0)" }
    static let dealers: [DealerID?] = ["d1", "d2", "d3", nil]
    /// After every lead of the history: memory must answer without the store.
    static let later = t0 + .seconds(100_000)

    struct Call {
        var lead: Lead
        var revision: Int
    }

    @Test("memory answers as the store reads, for every caller after every step", arguments: seeds)
    func equalsTheStore(seed: UInt64) async throws {
        var rng = SeededRandom(seed: seed)
        let dir = TemporaryDirectory("sticky-\(seed)")
        defer { dir.remove() }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: logger)
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let sticky = store.stickyDealers

        // Distinct start times in random order: the latest lead is rarely the one written last.
        var times = Array(0..<5_000).shuffled(using: &rng)
        var calls: [Call] = []
        let loadAt = Int.random(in: 0..<30, using: &rng)
        var loading: Task<Void, any Error>?
        for step in 0..<90 {
            if step == loadAt { loading = Task { try await store.loadStickyDealers() } }
            let now = Self.t0 + .seconds(Int64(step) * 10)
            let roll = Double.random(in: 0..<1, using: &rng)
            if roll < 0.45 {
                if !calls.isEmpty, rng.chance(0.25) {
                    // A later revision: the lead is credited to another dealer, or loses its dealer.
                    let index = Int.random(in: 0..<calls.count, using: &rng)
                    calls[index].revision += 1
                    calls[index].lead.revision += 1
                    calls[index].lead.dealerID = rng.pick(Self.dealers)
                    if rng.chance(0.3) { calls[index].lead.visitorID = rng.chance(0.8) ? rng.pick(Self.visitors) : nil }
                    try await ledger.record(calls[index].lead, callRevision: calls[index].revision, binding: nil, at: now)
                } else {
                    let caller: PhoneNumber? = rng.chance(0.9) ? rng.pick(Self.phones) : nil
                    let visitor: VisitorID? = rng.chance(0.8) ? rng.pick(Self.visitors) : nil
                    let started = Self.t0 + .seconds(Int64(times.removeLast()))
                    let lead = Lead(callID: "c\(step)", revision: 1, siteID: "acme", trackingNumber: Self.number, caller: caller,
                                    callerRaw: caller?.e164 ?? "", startedAt: started,
                                    match: Match(kind: .unmatched, confidence: 0, candidateCount: 0, candidates: [], rule: "test"),
                                    visitorID: visitor, dealerID: rng.pick(Self.dealers), changedAt: started)
                    let binding = caller.flatMap { caller in visitor.map { (phone: caller, visitor: $0) } }
                    try await ledger.record(lead, callRevision: 1, binding: rng.chance(0.5) ? binding : nil, at: now)
                    calls.append(Call(lead: lead, revision: 1))
                }
            } else if roll < 0.6 {
                try await store.apply([.link(VisitorIdentifier(phone: rng.pick(Self.phones)), to: rng.pick(Self.visitors), at: now)])
            } else if roll < 0.75 {
                let shared = VisitorIdentifier(.gaClientID, "ga-\(Int.random(in: 0..<5, using: &rng))")!
                try await store.apply([.link(shared, to: rng.pick(Self.visitors), at: now)])
            } else if roll < 0.82 {
                let contact = VisitorIdentifier(.crmContact, "crm-\(Int.random(in: 0..<4, using: &rng))")!
                _ = try await ledger.link(contact, to: .visitor(rng.pick(Self.visitors)), by: "test connector", at: now)
            } else if roll < 0.93 {
                let target: ErasureTarget = rng.chance(0.5) ? .phone(rng.pick(Self.phones)) : .visitor(rng.pick(Self.visitors))
                _ = try await ledger.erase(target, by: "test", at: now)
            } else {
                // Callers (and sometimes visitors and identifiers) of leads begun before a random time are redacted.
                let cutoff = Int64.random(in: 0..<5_000, using: &rng)
                let day = RetentionPolicy.day
                let sweep = Self.t0 + .seconds(cutoff) + day * 30
                var kinds: [PersonalData: Duration] = [.callers: day * 30]
                if rng.chance(0.5) { kinds[.sessions] = day * 30 }
                let policy = RetentionPolicy(redactAfter: kinds, identifiers: rng.chance(0.5) ? day * 30 : day * 730)
                _ = try await ledger.redact(policy, at: sweep, batchSize: Int.random(in: 1...4, using: &rng))
            }
            try await expectEqual(sticky, ledger, seed: seed, step: step, rng: &rng)
        }
        try await loading?.value
        #expect(sticky.isReady, "seed \(seed): loaded")
        try await expectEqual(sticky, ledger, seed: seed, step: 90, rng: &rng)
        // A fresh load from the tables alone gives the same answers as the writes kept.
        try await store.loadStickyDealers()
        try await expectEqual(sticky, ledger, seed: seed, step: 91, rng: &rng)
    }

    /// For every caller: long after the history memory answers on its own, and equals the store; at a random time
    /// within it, any answer memory gives equals the store's.
    func expectEqual(_ sticky: StickyDealerIndex, _ ledger: LeadLedger, seed: UInt64, step: Int, rng: inout SeededRandom) async throws {
        let ready = sticky.isReady
        for phone in Self.phones {
            for t in [Self.later, Self.t0 + .seconds(Int64.random(in: 0...5_000, using: &rng))] {
                let expected = try await ledger.stickyDealer(caller: phone, before: t)
                let answer = sticky.answer(for: phone, before: t)
                switch answer {
                case .readStore:
                    #expect(!ready || t != Self.later, "seed \(seed) step \(step) \(phone): memory had to ask the store at the end")
                case .dealer(let dealer):
                    #expect(dealer == expected, "seed \(seed) step \(step) \(phone) before \(t)")
                case .none:
                    #expect(expected == nil, "seed \(seed) step \(step) \(phone) before \(t): memory says nobody")
                }
            }
        }
    }
}
