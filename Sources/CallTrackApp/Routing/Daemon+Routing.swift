import CallTrackCore
import FastAGI

extension Daemon {
    /// The FastAGI server answering the dialplan's `AGI(agi://…/route)` with the configured dealers.
    /// The dealer who handled the caller before (by the number, through the identity graph) is asked first: from
    /// the store's sticky dealers in memory (loaded by `StickyDealerLoader`), else by a read of the store.
    /// It shares the lead path's `RoutingDesk`: a call it routed gets the same dealer on its lead. Lines a decision
    /// holds are released when a session ends before Asterisk got the targets, else by the call's hangup on AMI
    /// (a hold nobody releases lapses after 4 hours).
    public func fastAGIServer(_ configuration: FastAGIConfiguration, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> FastAGIServer {
        let desk = routing
        let book = self.book
        let ledger = self.ledger
        let clock = self.desk.clock
        let known = store.stickyDealers
        // The sticky dealer (who handled this person before) is known in memory; when memory cannot tell (still
        // loading), it is read off the event loop, and a slow read falls back to the site's default route at the
        // deadline, like any late decision.
        let router = DealerAGIRouter(
            desk: desk, clock: clock, country: config.country, siteOf: { book.site(owning: $0)?.id },
            sticky: { caller in try? await ledger.stickyDealer(caller: caller, before: clock.now()) },
            knownSticky: { caller, at in known.answer(for: caller, before: at) })
        return FastAGIServer(configuration: configuration, router: router, logger: logger, onListening: onListening)
    }
}
