import CallTrackCore
import Synchronization

/// Hands out routing decisions to concurrent callers (FastAGI sessions and the lead path) and
/// keeps what decisions depend on: the round-robin scores and the lines each dealer has busy.
///
/// A decision for a call is kept, and holds one line of the chosen dealer, under the call's id until
/// `release(call:)`: the AGI server releases it when the session ends before Asterisk got the
/// targets; the call's hangup (seen on AMI) releases it otherwise. The lead path asks with
/// `decision(for:call:)`, so a call FastAGI already routed keeps that decision and its line. A hold
/// nobody releases lapses after `maxHold`, so a lost hangup cannot take a dealer's capacity away for good.
/// Decide and hold happen under one lock: concurrent decisions never exceed a dealer's capacity.
public final class RoutingDesk: Sendable {
    public let routes: RoutingTable
    private let maxHold: Duration
    private let state: Mutex<State>

    fileprivate struct Hold {
        /// The dealer whose line is held; nil for a decision that found nobody (kept for the lead, holds no line).
        var dealer: Int?
        var decision: RoutingDecision
        var since: Timestamp
    }

    fileprivate struct State {
        var book: DealerBook
        var roundRobin: RoundRobin
        var busy: [Int]
        var holds: [String: Hold] = [:]
        var lastSweep = Timestamp.epoch
    }

    public init(routes: RoutingTable, maxHold: Duration = .seconds(4 * 3600)) {
        self.routes = routes
        self.maxHold = maxHold
        state = Mutex(State(book: routes.book, roundRobin: RoundRobin(dealers: routes.book.dealers.count),
                            busy: Array(repeating: 0, count: routes.book.dealers.count)))
    }

    /// Decides for `request`; with a `call` id, the chosen dealer's line stays held under it (a call
    /// routed again, e.g. the dialplan ran twice, gives its earlier line back first).
    public func route(_ request: RoutingRequest, call: String?) -> RoutingDecision {
        state.withLock { state in
            state.sweep(olderThan: request.at - maxHold, now: request.at)
            if let call { state.drop(call) }
            return state.decide(request, call: call)
        }
    }

    /// The decision already made for `call` (FastAGI routed it: the AGI request's call id is the AMI call's
    /// Linkedid), else a new one, held under `call` like `route`'s. Asked again, it returns the same decision:
    /// a retried store write or a restart's catch-up never takes a second line.
    public func decision(for request: RoutingRequest, call: String) -> RoutingDecision {
        state.withLock { state in
            if let held = state.holds[call] { return held.decision }
            state.sweep(olderThan: request.at - maxHold, now: request.at)
            return state.decide(request, call: call)
        }
    }

    /// The decision held for `call`, if any.
    public func decided(call: String) -> RoutingDecision? {
        state.withLock { $0.holds[call]?.decision }
    }

    /// Gives the line held for `call` back; false if it held none (already released or lapsed).
    @discardableResult
    public func release(call: String) -> Bool {
        state.withLock { state in
            state.drop(call)
        }
    }

    /// Gives the dealers whose weight is configured `auto` the weights measured for them (`DealerStats.suggestedWeight`);
    /// other dealers, and auto dealers without a measure, keep theirs. Returns the dealers whose weight changed.
    @discardableResult
    public func applyAutoWeights(_ suggested: [String: Int]) -> [String: Int] {
        state.withLock { state in
            var dealers = state.book.dealers
            var changed: [String: Int] = [:]
            for index in dealers.indices where dealers[index].autoWeight {
                if let weight = suggested[dealers[index].id], weight >= 1, weight != dealers[index].weight {
                    dealers[index].weight = weight
                    changed[dealers[index].id] = weight
                }
            }
            // Same dealers in the same order: indices (busy lines, round-robin scores) stay valid.
            if !changed.isEmpty, let book = try? DealerBook(dealers) { state.book = book }
            return changed
        }
    }

    /// The dealers as routed now: the configuration, with the admin API's changes and the auto weights.
    public var book: DealerBook { state.withLock { $0.book } }

    /// Routes with `dealers` from now on (the admin API changed them). Each dealer keeps its busy lines, held calls
    /// and round-robin place by id; a dealer no longer listed keeps its held calls' decisions (the leads of calls
    /// in progress take them) but they hold no line any more.
    public func replace(dealers: [Dealer]) throws(DealerBook.DuplicateDealer) {
        let book = try DealerBook(dealers)
        state.withLock { state in
            let previous = book.dealers.map { state.book.index(of: $0.id) }
            let mapping = Dictionary(uniqueKeysWithValues: previous.enumerated().compactMap { new, old in old.map { ($0, new) } })
            state.busy = previous.map { $0.map { state.busy[$0] } ?? 0 }
            state.roundRobin = state.roundRobin.remapped(previous: previous)
            for (call, hold) in state.holds { state.holds[call]?.dealer = hold.dealer.flatMap { mapping[$0] } }
            state.book = book
        }
    }

    /// The weight each dealer is routed with now.
    public func weights() -> [String: Int] {
        state.withLock { state in Dictionary(state.book.dealers.map { ($0.id, $0.weight) }, uniquingKeysWith: { first, _ in first }) }
    }

    /// Lines in use per dealer id (dealers with none are left out).
    public func busyLines() -> [String: Int] {
        state.withLock { state in
            var lines: [String: Int] = [:]
            for (index, count) in state.busy.enumerated() where count > 0 { lines[state.book.dealers[index].id] = count }
            return lines
        }
    }

    /// The default route (dial string) for a site when no dealer can be decided.
    public func defaultRoute(site: String?) -> String? {
        site.flatMap { routes.defaultRoutes[$0] }
    }
}

extension RoutingDesk.State {
    /// Decides, and keeps the decision (with its dealer's line) under `call`.
    fileprivate mutating func decide(_ request: RoutingRequest, call: String?) -> RoutingDecision {
        let decision = book.decide(request, busy: busy, roundRobin: &roundRobin)
        guard let call else { return decision }
        let index = decision.dealer.flatMap { book.index(of: $0) }
        if let index { busy[index] += 1 }
        holds[call] = RoutingDesk.Hold(dealer: index, decision: decision, since: request.at)
        return decision
    }

    /// Forgets `call`'s decision and gives its line back; false if none was held.
    @discardableResult
    fileprivate mutating func drop(_ call: String) -> Bool {
        guard let hold = holds.removeValue(forKey: call) else { return false }
        if let dealer = hold.dealer { busy[dealer] -= 1 }
        return true
    }

    /// Drops holds older than `cutoff`, at most once a minute (one pass over the holds).
    fileprivate mutating func sweep(olderThan cutoff: Timestamp, now: Timestamp) {
        guard now - lastSweep >= .seconds(60) else { return }
        lastSweep = now
        for (call, hold) in holds where hold.since < cutoff {
            holds[call] = nil
            if let dealer = hold.dealer { busy[dealer] -= 1 }
        }
    }
}

/// Routing as configured: the dealers, and each site's default route (the dial string used when
/// no dealer can take a call).
public struct RoutingTable: Sendable {
    public var book: DealerBook
    public var defaultRoutes: [String: String]

    public init(book: DealerBook = .empty, defaultRoutes: [String: String] = [:]) {
        self.book = book
        self.defaultRoutes = defaultRoutes
    }
}
