import AMI
import Analytics
import AMIClient
import CallTrackCore
import FastAGI
import HTTPAPI
import Store
import Webhooks

/// The PEM files of the certificate (with its chain) and its private key.
public struct TLSFiles: Sendable, Hashable {
    public var certificate: String
    public var key: String

    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// Everything the daemon reads from its config file and `CALLTRACKD_…` environment overrides, validated.
public struct AppConfig: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// A connection with no request in flight is closed after this: an idle keep-alive, or a client that
    /// never finishes sending a request head (one byte a second). nginx's `keepalive_timeout` is 75 s.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// Open HTTP connections at most (`http.max_connections`); nil: what the descriptor limit allows.
    public var httpMaxConnections: Int?
    /// HTTPS served directly (`http.tls.cert`, `http.tls.key`: PEM files, read again on SIGHUP); nil: plain HTTP,
    /// as behind a proxy that terminates TLS.
    public var httpTLS: TLSFiles?
    public var dataDirectory = "./data"
    public var storage = SQLiteStore.Options()
    public var logLevel = "info"
    public var logFormat = LogFormat.text
    public var country = Country.ru
    public var api = APISettings()
    public var perIP = FloodGuard.Limit(burst: 30, perMinute: 20)
    public var perVisitor = FloodGuard.Limit(burst: 10, perMinute: 5)
    /// How often expired leases are swept from memory and pool gauges refreshed.
    public var sweepInterval: Duration = .seconds(5)
    /// Retention per kind of personal data (`privacy.redact_after.*`: redacted after) and of visitor identifiers
    /// (`privacy.retention`: deleted when last seen longer ago). A B2B sale takes months: two years for what links a
    /// call to a person, much less for the traces of a visit.
    public var retention = RetentionPolicy()
    /// Pool statistics: minute buckets are kept this long, then rolled into hours (`stats.minutes_kept`), which
    /// are kept this long (`stats.hours_kept`: dealer and pool reviews compare year over year).
    public var statsMinutesKept: Duration = .seconds(30 * 86_400)
    public var statsHoursKept: Duration = .seconds(400 * 86_400)
    /// Benchmarks only (no config key): false leaves the allocation path without its per-pool counters, to
    /// measure what they cost against a daemon that has them.
    public var countsPoolAllocations = true
    public var sites: [Site] = []
    /// The Asterisk Manager Interface to follow; nil runs without Asterisk (leases only).
    public var ami: AMIConfiguration?
    public var leads = LeadRules()
    /// Where leads go; nil keeps them in SQLite only (`calltrackd leads`, `GET /v1/admin/leads`).
    public var postgres: PostgresSettings?
    /// Dealers and each site's default route (`dealers:`, `dealer.<id>.*`, `site.<id>.default_route`).
    public var routing = RoutingTable()
    /// Per-dealer statistics: hour buckets are kept this long (`dealer_stats.hours_kept`, 400 days: dealer reviews
    /// compare year over year), and a missed call counts as called back only within `callbackWindow`
    /// (`dealer_stats.callback_window`).
    public var dealerStatsKept: Duration = .seconds(400 * 86_400)
    public var callbackWindow: Duration = .seconds(3_600)
    /// Webhook endpoints, each a lead destination with its own cursor (`site.<id>.webhooks`, `webhook.<id>.*`).
    public var webhooks: [WebhookEndpoint] = []
    /// GA4 properties, each a lead destination with its own cursor (`site.<id>.ga4`, `ga4.<id>.*`).
    public var ga4: [GA4Property] = []
    /// FastAGI for live routing; nil: not served.
    public var agi: FastAGIConfiguration?

    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    public init() {}

    public var databasePath: String { dataDirectory.hasSuffix("/") ? dataDirectory + "state.sqlite" : dataDirectory + "/state.sqlite" }
}

/// The lead database: a libpq connection string (empty: the `PG*` environment variables and `.pgpass` decide).
public struct PostgresSettings: Sendable {
    public var conninfo: String
    public var schema = "calltrack"
    public var channel = "calltrack_lead"
    /// How often the `outcome_report` table is read for outcomes a connector wrote there, and ad costs not yet
    /// copied to `ad_cost` are copied again.
    public var syncInterval: Duration = .seconds(2)

    public init(conninfo: String) { self.conninfo = conninfo }
}

/// A config value that is wrong: the key as written in the file, the env variable that overrides it, and what to do.
public struct ConfigProblem: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    /// A problem with a `CALLTRACKD_*` variable that names no config key.
    public init(environmentVariable name: String, _ message: String) {
        self.key = name
        self.message = message
        self.isVariable = true
    }

    private var isVariable = false
    /// Further problems found in the same check, each shown on its own line.
    private var others: [ConfigProblem] = []

    public var environmentVariable: String { isVariable ? key : UnknownKeys.environmentName(of: key) }

    func together(with others: some Sequence<ConfigProblem>) -> ConfigProblem {
        var problem = self
        problem.others = Array(others)
        return problem
    }

    public var description: String {
        ([self] + others).map { problem in
            problem.isVariable ? "environment variable \(problem.key): \(problem.message)"
                : "config key \(problem.key) (env \(problem.environmentVariable)): \(problem.message)"
        }.joined(separator: "\n")
    }
}
