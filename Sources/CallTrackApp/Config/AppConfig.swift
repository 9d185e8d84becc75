import AMI
import AMIClient
import CallTrackCore
import FastAGI
import HTTPAPI
import Store

/// Everything the daemon reads from its config file and `CALLTRACKD_…` environment overrides, validated.
public struct AppConfig: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// A connection with no request in flight is closed after this: an idle keep-alive, or a client that
    /// never finishes sending a request head (one byte a second). nginx's `keepalive_timeout` is 75 s.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// Open HTTP connections at most (`http.max_connections`); nil: what the descriptor limit allows.
    public var httpMaxConnections: Int?
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
    /// Visits, leases and visitor identifiers (phones, analytics and click ids) last seen longer ago than this are forgotten (a B2B sale takes months: two years by default).
    public var retention: Duration = .seconds(730 * 86_400)
    public var sites: [Site] = []
    /// The Asterisk Manager Interface to follow; nil runs without Asterisk (leases only).
    public var ami: AMIConfiguration?
    public var leads = LeadRules()
    /// Where leads go; nil keeps them in SQLite only (`calltrackd leads`, `GET /v1/admin/leads`).
    public var postgres: PostgresSettings?
    /// Dealers and each site's default route (`dealers:`, `dealer.<id>.*`, `site.<id>.default_route`).
    public var routing = RoutingTable()
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

    public var environmentVariable: String {
        "CALLTRACKD_" + String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public var description: String { "config key \(key) (env \(environmentVariable)): \(message)" }
}
