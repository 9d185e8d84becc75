/// The sticky dealer of every caller, held in memory so that routing a live call needs no I/O.
///
/// It promises the store's answer (`LeadLedger.stickyDealer(caller:before:)`: the dealer of the latest earlier
/// lead found by the caller's number or by any visitor id of the person the number is bound to), exactly:
/// - `.dealer(d)` and `.none` are that answer for the caller at the time asked;
/// - `.readStore` when memory cannot tell (not loaded yet, a refresh failed, or the caller's latest lead began
///   at or after the time asked): the caller must read the store as before.
///
/// It holds one entry per phone number whose answer is a dealer: its latest lead's dealer (interned) and start.
/// The store keeps it exact by reading the answers of the numbers a committed write may have changed, in commit
/// order, and handing them to `refreshed`. Leads that began in the same microsecond are ordered arbitrarily, as
/// in the store.
///
/// ```
/// off ── startLoading() ──> loading ── loaded(builder) ──> ready
///          (refreshes are kept and win over the snapshot; before ready every answer is .readStore)
/// ```
public struct StickyDealers: Sendable {
    public enum Answer: Hashable, Sendable {
        /// The dealer who handled this caller before.
        case dealer(DealerID)
        /// Nobody handled them: no read needed.
        case none
        /// Only the store can tell.
        case readStore
    }

    /// A phone's latest lead with a dealer.
    public struct Latest: Hashable, Sendable {
        public var dealer: DealerID
        public var at: Timestamp

        public init(dealer: DealerID, at: Timestamp) {
            self.dealer = dealer
            self.at = at
        }
    }

    enum Phase: Sendable {
        case off
        /// The snapshot is being read; the numbers refreshed meanwhile.
        case loading(refreshed: Set<String>)
        case ready
    }

    struct Entry: Sendable {
        var at: Int64
        var dealer: UInt32
    }

    private var phase = Phase.off
    /// By the caller's E.164 spelling, as the `lead.caller` and `visitor_identifier.value` columns hold it.
    private var latest: [String: Entry] = [:]
    private var dealers: [DealerID] = []
    private var dealerIndex: [DealerID: UInt32] = [:]

    /// Off: every answer is `.readStore`, refreshes are ignored.
    public init() {}

    /// Whether refreshes are wanted (the store may skip reading answers nobody keeps).
    public var isOn: Bool {
        if case .off = phase { return false }
        return true
    }

    public var isReady: Bool {
        if case .ready = phase { return true }
        return false
    }

    /// Numbers with a dealer held.
    public var count: Int { latest.count }

    /// The answer for `caller` at `t`.
    public func answer(for caller: PhoneNumber, before t: Timestamp) -> Answer {
        answer(for: caller.e164, before: t)
    }

    public func answer(for caller: String, before t: Timestamp) -> Answer {
        guard case .ready = phase else { return .readStore }
        guard let entry = latest[caller] else { return .none }
        return entry.at < t.microsecondsSinceEpoch ? .dealer(dealers[Int(entry.dealer)]) : .readStore
    }

    /// Called before the snapshot's read begins: from here on every refresh is kept.
    public mutating func startLoading() {
        phase = .loading(refreshed: [])
        latest = [:]
    }

    /// The snapshot read since `startLoading`; the refreshes seen meanwhile are newer, and win.
    public mutating func loaded(_ snapshot: Builder) {
        guard case .loading(let refreshed) = phase else { return }
        let newer = refreshed.map { ($0, self.latest($0)) }
        self = snapshot.build()
        for (phone, value) in newer { set(phone, value) }
        phase = .ready
    }

    /// Memory can no longer follow the store (a refresh could not be read): every answer is `.readStore`.
    public mutating func lost() {
        self = StickyDealers()
    }

    /// The store's answer for `phone` (its latest lead with a dealer at any time), read after a commit.
    public mutating func refreshed(_ phone: String, _ value: Latest?) {
        switch phase {
        case .off: return
        case .loading(var refreshed):
            refreshed.insert(phone)
            phase = .loading(refreshed: [])  // no second copy of the set while it grows
            set(phone, value)
            phase = .loading(refreshed: refreshed)
        case .ready: set(phone, value)
        }
    }

    func latest(_ phone: String) -> Latest? {
        latest[phone].map { Latest(dealer: dealers[Int($0.dealer)], at: Timestamp(microsecondsSinceEpoch: $0.at)) }
    }

    private mutating func set(_ phone: String, _ value: Latest?) {
        guard let value else {
            latest[phone] = nil
            return
        }
        latest[phone] = Entry(at: value.at.microsecondsSinceEpoch, dealer: intern(value.dealer))
    }

    private mutating func intern(_ dealer: DealerID) -> UInt32 {
        if let index = dealerIndex[dealer] { return index }
        let index = UInt32(dealers.count)
        dealers.append(dealer)
        dealerIndex[dealer] = index
        return index
    }
}

extension StickyDealers {
    /// Builds the answers from the three tables as the store's read walks them: the leads with a dealer, the
    /// phones bound to visitors (`visitor_identifier`, kind phone) and the merges (`visitor_merge`). The
    /// person of a number is the survivor of the visitor it is bound to (one step, as `VisitorIdentity.survivor`),
    /// with every visitor merged into that survivor; the answer is the latest of their leads and the number's own.
    public struct Builder: Sendable {
        var byCaller: [String: Latest] = [:]
        var byVisitor: [VisitorID: Latest] = [:]
        var owners: [(phone: String, visitor: VisitorID)] = []
        var survivors: [VisitorID: VisitorID] = [:]

        public init() {}

        public mutating func lead(caller: String?, visitor: VisitorID?, dealer: DealerID, at: Timestamp) {
            let lead = Latest(dealer: dealer, at: at)
            if let caller { Self.keep(lead, in: &byCaller[caller]) }
            if let visitor { Self.keep(lead, in: &byVisitor[visitor]) }
        }

        public mutating func phone(_ phone: String, boundTo visitor: VisitorID) {
            owners.append((phone, visitor))
        }

        public mutating func merge(_ merged: VisitorID, into survivor: VisitorID) {
            survivors[merged] = survivor
        }

        static func keep(_ lead: Latest, in slot: inout Latest?) {
            if slot.map({ lead.at > $0.at }) ?? true { slot = lead }
        }

        /// Ready answers (the phase is the caller's to set).
        func build() -> StickyDealers {
            // A visitor's leads count for itself as a survivor and for the survivor it was merged into.
            var byPerson: [VisitorID: Latest] = [:]
            for (visitor, lead) in byVisitor {
                Self.keep(lead, in: &byPerson[visitor])
                if let survivor = survivors[visitor] { Self.keep(lead, in: &byPerson[survivor]) }
            }
            var answers = byCaller
            for (phone, visitor) in owners {
                guard let lead = byPerson[survivors[visitor] ?? visitor] else { continue }
                Self.keep(lead, in: &answers[phone])
            }
            var built = StickyDealers()
            built.latest.reserveCapacity(answers.count)
            for (phone, lead) in answers { built.set(phone, lead) }
            return built
        }
    }
}
