import CallTrackCore
import Foundation
import Logging
import Store

/// `calltrackd route` decides with what the running daemon would use: the config file's dealers and sites with the
/// admin API's changes from the state database, and, unless `--sticky` names one, the dealer who handled the caller
/// before (read from the leads, across the person's numbers and devices). Without a state database it is the
/// config file's dealers alone and no sticky dealer.
public enum RouteWhatIf {
    public static func answer(
        config: AppConfig, site: String, caller: String?, at: String?, sticky: String?, now: Timestamp = SystemClock().now()
    ) async throws -> RouteAnswer {
        var routes = config.routing
        var sites = config.sites
        var sticky = sticky
        if FileManager.default.fileExists(atPath: config.databasePath) {
            let logger = Logger(label: "calltrackd.route")
            let store = try SQLiteStore(path: config.databasePath, logger: logger)
            sites = SiteOrigins.settle(configured: config.sites, stored: try await store.sites(), logger: logger)
            routes.book = try DealerBook(try await DealerOrigins.settled(config: config, store: store, logger: logger))
            if sticky == nil, let caller, let number = try? PhoneNumber.parse(caller, defaultCountry: config.country) {
                let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
                sticky = try await ledger.stickyDealer(caller: number, before: at.flatMap(RouteAnswer.parseTime) ?? now)
            }
        }
        return try RouteAnswer(routes: routes, sites: sites.map(\.id), site: site, caller: caller, at: at, sticky: sticky,
                               country: config.country, now: now)
    }
}
