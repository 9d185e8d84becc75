import AMI
import AMIClient
import CallTrackCore
import Destinations
import Foundation
import HTTPAPI
import Hummingbird
import Logging
import PostgresSink
import Prometheus
import ServiceLifecycle
import Store

/// The running daemon: state store, lease book recovered from it, HTTP API, and the services around them.
///
/// `store` and `ledger` are the SQLite implementation of the state; the services see it only through the store
/// protocols, so a PostgreSQL implementation replaces it in `open` alone.
public struct Daemon: Sendable {
    public let config: AppConfig
    public let store: SQLiteStore
    public let book: LeaseBook
    public let desk: SessionDesk
    public let ledger: LeadLedger
    public let leads: LeadDesk
    /// Dealer routing: decides each lead's dealer and answers FastAGI, one set of lines and round-robin scores.
    public let routing: RoutingDesk
    /// The dealers routing uses, changed through the admin API.
    public let dealers: DealerDirectoryDesk
    /// Each dealer's calls hour by hour, and the missed calls it called back.
    public let dealerStatistics: DealerStatisticsStore
    /// Ad spend per day and campaign, imported from the ad cabinets.
    public let costs: AdCostStore
    /// The webhook deliveries running, for a replay through the admin API.
    public let webhooks: RunningWebhooks
    /// Each pool's history, minute by minute (then hour by hour), with the whole hours answers read held in memory.
    public let statistics: CachedPoolHistory
    /// The certificate HTTPS is served with, when `http.tls` is configured.
    public let certificates: TLSCertificates?
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    /// Draws each webhook and GA4 retry's jitter r ∈ [0, 1]; tests set a constant so the retry timers are known.
    public var webhookJitter: @Sendable () -> Double = { Double.random(in: 0...1) }

    /// Opens the store, settles which site definitions apply, and restores every pool's leases and cooldowns.
    public static func open(
        config: AppConfig, registry: PrometheusCollectorRegistry, clock: any WallClock = SystemClock(), logger: Logger
    ) async throws -> Daemon {
        do {
            try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigProblem(key: "data.dir", "cannot create \(config.dataDirectory): \(error.localizedDescription); choose a writable folder")
        }
        let certificates = try config.httpTLS.map { files in
            try TLSCertificates(certificatePath: files.certificate, keyPath: files.key)
        }
        let store = try SQLiteStore(path: config.databasePath, options: config.storage, logger: logger)
        let sites = SiteOrigins.settle(configured: config.sites, stored: try await store.sites(), logger: logger)
        let book = LeaseBook(sites: sites, flood: FloodGuard(perIP: config.perIP, perVisitor: config.perVisitor))
        let now = clock.now()
        var restored = 0
        for site in sites {
            for pool in site.pools {
                let recovery = try await store.recovery(pool: pool.id, numbers: pool.numbers, at: now, cooldown: pool.policy.cooldown)
                book.restore(pool: pool.id, liveLeases: recovery.liveLeases, lastReleases: recovery.lastReleases)
                restored += recovery.liveLeases.count
            }
        }
        logger.info("state recovered", metadata: [
            "database": "\(config.databasePath)", "sites": "\(sites.count)", "live_leases": "\(restored)",
        ])
        let desk = SessionDesk(book: book, store: store, clock: clock, metrics: APIMetrics(),
                               statistics: PoolStatsRecorder(countsAllocations: config.countsPoolAllocations),
                               identityLinks: config.api.identityLinks, logger: logger)
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let adminDealers = AdminDealers(store: store)
        let settled = DealerOrigins.settle(configured: config.routing.book.dealers, stored: try await adminDealers.all(),
                                           country: config.country, logger: logger)
        var routes = config.routing
        routes.book = (try? DealerBook(settled.dealers)) ?? routes.book
        let routing = RoutingDesk(routes: routes)
        let dealers = DealerDirectoryDesk(routing: routing, store: adminDealers, country: config.country, clock: clock, logger: logger,
                                          fromAdmin: settled.fromAdmin)
        let dealerStatistics = DealerStatisticsStore(store: store, outbox: ledger.outbox)
        let leads = LeadDesk(book: book, store: store, ledger: ledger, settings: config.leads, clock: clock, logger: logger,
                             routing: routing, dealerStatistics: dealerStatistics)
        await leads.catchUp()
        return Daemon(config: config, store: store, book: book, desk: desk, ledger: ledger, leads: leads, routing: routing,
                      dealers: dealers, dealerStatistics: dealerStatistics, costs: AdCostStore(store: store),
                      webhooks: RunningWebhooks(endpoints: config.webhooks.map(\.id), clock: clock),
                      statistics: CachedPoolHistory(store: PoolStatisticsStore(store: store), clock: clock), certificates: certificates,
                      registry: registry, logger: logger)
    }

    /// Ad costs and the ROI report, for the admin API.
    public var moneyDesk: MoneyDesk { MoneyDesk(leads: ledger, costs: costs, clock: desk.clock, logger: logger) }

    /// Each dealer's figures, for the admin API, `calltrackd dealers` and the auto weights.
    public var dealerStatsDesk: DealerStatsDesk {
        let routing = self.routing
        return DealerStatsDesk(statistics: dealerStatistics, leads: ledger, dealers: { routing.book.dealers },
                               callbackWindow: config.callbackWindow, clock: desk.clock)
    }

    /// The HTTP application; `onListening` gets the bound port (useful with `http.port: 0`).
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var settings = config.api
        settings.setup = [
            .init("Version", CalltrackdVersion.current),
            .init("State", "SQLite at \(config.databasePath)"),
            .init("Asterisk (AMI)", config.ami.map { "following calls from \($0.host):\($0.port)" } ?? "not configured (ami.host): leasing numbers only"),
            .init("PostgreSQL", config.postgres.map { "leads delivered to schema \($0.schema)" } ?? "not configured (postgres.url): leads stay in SQLite"),
            .init("FastAGI routing", config.agi.map { "\($0.host):\($0.port)" } ?? "off"),
            .init("HTTPS", certificates == nil ? "no (plain HTTP; a proxy may terminate TLS)" : "yes"),
        ]
        let router = APIRouter.make(desk: desk, settings: settings, country: config.country, registry: registry, ledger: ledger,
                                    leads: LedgerLeads(ledger: ledger), statistics: statistics,
                                    dealerStats: dealerStatsDesk, dealers: dealers,
                                    money: moneyDesk, webhookReplays: webhooks)
        let logger = self.logger
        let host = config.httpHost
        let idle = config.httpIdleTimeout
        let scheme = certificates == nil ? "http" : "https"
        return Application(
            router: router,
            server: .calltrackd(idleTimeout: .nanoseconds(Int64(idle.microseconds) * 1000), certificates: certificates),
            configuration: .init(
                address: .hostname(host, port: config.httpPort), serverName: "calltrackd",
                availableConnectionsDelegate: ConnectionBudget(configured: config.httpMaxConnections)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("calltrackd listening", metadata: ["address": "\(scheme)://\(host):\(port)"])
                await onListening(port)
            },
            logger: logger)
    }

    /// Runs until SIGTERM/SIGINT: in-flight requests finish, queued writes are committed, then it returns.
    /// `onOutboundCall` hears each outbound call AMI showed, once the lead desk handled it (a dealer's callback).
    public func run(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onCallStored: @escaping @Sendable (CallRecord) async -> Void = { _ in },
        onOutboundCall: @escaping @Sendable (OutboundCall) async -> Void = { _ in }
    ) async throws {
        let group = ServiceGroup(
            services: try await services(onListening: onListening, onCallStored: onCallStored, onOutboundCall: onOutboundCall),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
        logger.notice("calltrackd stopped")
    }

    /// Every service `serve` runs, in start order (they stop in reverse: the store's writer last). The tests and
    /// the benchmarks run the daemon through `run`, so they start exactly these. Each gets the state through the
    /// store protocols (`StateStore`, `LeadStore`, `DeliveryLog`, `PoolHistory`); `open` is the one place that
    /// builds their SQLite implementation.
    public func services(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onCallStored: @escaping @Sendable (CallRecord) async -> Void = { _ in },
        onOutboundCall: @escaping @Sendable (OutboundCall) async -> Void = { _ in }
    ) async throws -> [any Service] {
        var services: [any Service] = [
            StoreService(store: store),
            LeaseSweeper(book: book, clock: desk.clock, interval: config.sweepInterval, statistics: desk.statistics),
            PoolStatsWriter(recorder: desk.statistics, store: statistics, pools: book.allSites.flatMap(\.pools).map(\.id),
                            clock: desk.clock, minutesKept: config.statsMinutesKept,
                            hoursKept: config.statsHoursKept, logger: logger),
            RetentionSweeper(ledger: ledger, clock: desk.clock, policy: config.retention, logger: logger),
            DealerStatsPruner(statistics: dealerStatistics, clock: desk.clock, kept: config.dealerStatsKept, logger: logger),
        ]
        if config.routing.book.dealers.contains(where: \.autoWeight) {
            services.append(DealerWeightTuner(stats: dealerStatsDesk, routing: routing, clock: desk.clock, logger: logger))
        }
        var destinations: Set<String> = []
        if let postgres = config.postgres {
            let schema = try PostgresSchema(name: postgres.schema, channel: postgres.channel)
            let connection = PostgresConnection(postgres.conninfo, setup: ["SET statement_timeout = '30s'"], logger: logger)
            let destination = PostgresLeadDestination(connection: connection, schema: schema, logger: logger)
            let delivery = DestinationDelivery(destination: destination, ledger: ledger, clock: desk.clock, logger: logger)
            // Before calls come in: a destination seen for the first time receives the changes from here on.
            try await delivery.register()
            services.append(delivery)
            destinations.insert(destination.name)
            let side = PostgresConnection(postgres.conninfo, setup: ["SET statement_timeout = '30s'"], logger: logger)
            services.append(PostgresSideTables(
                reports: PostgresOutcomeReports(connection: side, schema: schema), costsOut: PostgresAdCosts(connection: side, schema: schema),
                leads: ledger, costs: costs, clock: desk.clock, interval: postgres.syncInterval,
                settings: ["callback_window_seconds": String(config.callbackWindow.components.seconds)], logger: logger))
        } else {
            logger.notice("no postgres.url configured: leads stay in SQLite (calltrackd leads, GET /v1/admin/leads)")
        }
        // Each endpoint its own cursor and loop: a dead or slow endpoint delays neither PostgreSQL nor another one.
        services += try await webhookServices(jitter: webhookJitter)
        destinations.formUnion(config.webhooks.map(\.destinationName))
        services += try await ga4Services()
        destinations.formUnion(config.ga4.map(\.destinationName))
        // A destination delivered to before and not configured now keeps its place: its changes wait for it, and
        // the outbox keeps them (pruning waits for every destination).
        for (name, cursor) in try await ledger.deliveryLog.cursors() where !destinations.contains(name) {
            let waiting = try await ledger.deliveryLog.stats(for: name).pending
            logger.notice("lead destination not configured: its changes wait in the outbox until it is", metadata: [
                "destination": "\(name)", "outbox.delivered_through": "\(cursor)", "outbox.pending": "\(waiting)",
            ])
        }
        services.append(HangupReloader(certificates: certificates, logger: logger))
        if let ami = config.ami {
            // The client stops before the ingest (services stop in reverse order), which then drains what came in.
            let client = AMIClientService(configuration: ami, clock: desk.clock, logger: logger)
            services.append(CallIngest(events: client.callEvents, leads: leads, logger: logger, onStored: onCallStored))
            services.append(CallbackIngest(calls: client.outboundCalls, leads: leads, onHandled: onOutboundCall))
            services.append(client)
        } else {
            logger.notice("no ami.host configured: leasing numbers only, no calls are followed")
        }
        if let agi = config.agi {
            services.append(StickyDealerLoader(store: store, clock: desk.clock, logger: logger))
            services.append(fastAGIServer(agi))
        }
        let systemd = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        services.append(application(onListening: { port in
            // Ready once the store is open and the port listens (`Type=notify`).
            systemd.send(["READY=1", "STATUS=serving on port \(port)"])
            await onListening(port)
        }))
        if systemd.isActive {
            // Last, so it is the first told to stop and says STOPPING=1 before the others wind down.
            services.append(SystemdWatchdog(notifier: systemd, store: store, book: book, outbox: ledger.deliveryLog, clock: desk.clock, logger: logger))
        }
        return services
    }
}

