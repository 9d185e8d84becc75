import CallTrackCore
import Synchronization

/// Hands out routing decisions to concurrent callers (FastAGI sessions, later the lead path) and
/// keeps what decisions depend on: the round-robin scores and the lines each dealer has busy.
///
/// A decision for a call holds one line of the chosen dealer under the call's id until
/// `release(call:)`: the AGI server releases it when the session ends before Asterisk got the
/// targets; the call's hangup (seen on AMI) releases it otherwise. A hold nobody releases lapses
/// after `maxHold`, so a lost hangup cannot take a dealer's capacity away for good.
/// Decide and hold happen under one lock: concurrent decisions never exceed a dealer's capacity.
public final class RoutingDesk: Sendable {
    public let routes: RoutingTable
    private let maxHold: Duration
    private let state: Mutex<State>

    fileprivate struct Hold {
        var dealer: Int
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
            if let call, let previous = state.holds.removeValue(forKey: call) { state.busy[previous.dealer] -= 1 }
            let decision = state.book.decide(request, busy: state.busy, roundRobin: &state.roundRobin)
            if let call, let dealer = decision.dealer, let index = state.book.index(of: dealer) {
                state.busy[index] += 1
                state.holds[call] = Hold(dealer: index, since: request.at)
            }
            return decision
        }
    }

    /// Gives the line held for `call` back; false if it held none (already released or lapsed).
    @discardableResult
    public func release(call: String) -> Bool {
        state.withLock { state in
            guard let hold = state.holds.removeValue(forKey: call) else { return false }
            state.busy[hold.dealer] -= 1
            return true
        }
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
    /// Drops holds older than `cutoff`, at most once a minute (one pass over the holds).
    fileprivate mutating func sweep(olderThan cutoff: Timestamp, now: Timestamp) {
        guard now - lastSweep >= .seconds(60) else { return }
        lastSweep = now
        for (call, hold) in holds where hold.since < cutoff {
            holds[call] = nil
            busy[hold.dealer] -= 1
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
