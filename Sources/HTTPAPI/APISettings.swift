import CallTrackCore

/// The HTTP adapter's knobs, read from the config file by the app.
public struct APISettings: Sendable {
    /// Bodies above this answer 413: a session body is well under 4 KB even with long URLs.
    public var maxBodyBytes: Int
    /// The `admin`-scope bearer token of the config's `admin.token`.
    public var adminToken: String?
    /// Further tokens, each with its scope (`tokens` in the config).
    public var tokens: [APIToken] = []

    /// One line of what the daemon is set up with, for the front page (`GET /`).
    public struct SetupLine: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What the app configured, shown on the front page: no secrets, no personal data.
    public var setup: [SetupLine] = []

    /// Every token the admin API accepts; none disables `/v1/admin/`.
    var acceptedTokens: [APIToken] {
        (adminToken.map { [APIToken(name: "admin.token", scope: .admin, secret: $0)] } ?? []) + tokens
    }
    /// Serve `POST /v1/bench/echo` (decode + same-sized answer, no pool, no store): benchmarks only.
    public var benchEcho: Bool
    public var pingIntervalSeconds: Int
    /// How long the snippet keeps marked numbers hidden waiting for an answer.
    public var hideTimeoutMilliseconds: Int
    /// Identifiers a visit carries that link its visitor to others (`identity.link_by`): a second device or
    /// a cleared cookie with the same analytics client id or ad click merges into the visitor seen first.
    public var identityLinks: Set<VisitorIdentifier.Kind> = VisitorIdentifier.Kind.fromSessions
    /// Proxies whose `Forwarded` / `X-Forwarded-For` name the client (`http.trusted_proxies`); empty: the
    /// socket peer is the client, and those headers are never read.
    public var trustedProxies = TrustedProxies()

    public init(
        maxBodyBytes: Int = 16 * 1024, adminToken: String? = nil, benchEcho: Bool = false,
        pingIntervalSeconds: Int = 60, hideTimeoutMilliseconds: Int = 1500
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.adminToken = adminToken
        self.benchEcho = benchEcho
        self.pingIntervalSeconds = pingIntervalSeconds
        self.hideTimeoutMilliseconds = hideTimeoutMilliseconds
    }
}
