import CallTrackCore
import FastAGI

extension Daemon {
    /// The FastAGI server answering the dialplan's `AGI(agi://…/route)` with the configured dealers.
    /// It shares the lead path's `RoutingDesk`: a call it routed gets the same dealer on its lead. Lines a decision
    /// holds are released when a session ends before Asterisk got the targets, else by the call's hangup on AMI
    /// (a hold nobody releases lapses after 4 hours).
    func fastAGIServer(_ configuration: FastAGIConfiguration, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> FastAGIServer {
        let desk = routing
        let book = self.book
        let router = DealerAGIRouter(
            desk: desk, clock: self.desk.clock, country: config.country, siteOf: { book.site(owning: $0)?.id })
        return FastAGIServer(configuration: configuration, router: router, logger: logger, onListening: onListening)
    }
}
