import CallTrackCore
import Hummingbird
import Prometheus

/// Every route of the daemon on one router: snippet API, snippet file, ops, admin, and (for benchmarks) echo.
public enum APIRouter {
    public static func make(
        desk: SessionDesk, settings: APISettings, country: Country, registry: PrometheusCollectorRegistry,
        ledger: (any IdentityBook & PersonalDataStore)? = nil, leads: (any LeadSource)? = nil, statistics: (any PoolHistory)? = nil,
        dealerStats: (any DealerStatsSource)? = nil, dealers: (any DealerDirectory)? = nil, money: (any MoneySource)? = nil,
        webhookReplays: (any WebhookReplays)? = nil
    ) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        // First, so it wraps every route and the router's own not-found answer.
        router.add(middleware: ErrorBodies(logger: desk.logger))
        let sessions = SessionRoutes(desk: desk, settings: settings)
        sessions.register(on: router)
        SnippetRoute().register(on: router)
        OpsRoutes(desk: desk, registry: registry).register(on: router)
        FrontPage(desk: desk, setup: settings.setup).register(on: router)
        AdminRoutes(desk: desk, settings: settings, country: country, ledger: ledger, leads: leads, statistics: statistics,
                    dealerStats: dealerStats, dealers: dealers, money: money, webhookReplays: webhookReplays).register(on: router)
        if let statistics { StatsPage(desk: desk, statistics: statistics, tokens: settings.acceptedTokens).register(on: router) }
        if settings.benchEcho { EchoRoute(sessions: sessions).register(on: router) }
        return router
    }
}
