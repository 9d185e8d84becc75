import AMI
import AMIClient
import CallTrackCore
import Configuration
import HTTPAPI
import PostgresSink
import SystemPackage
import Webhooks

/// Reads `AppConfig` from a YAML file with environment overrides (`http.port` ← `CALLTRACKD_HTTP_PORT`).
///
/// Values are read as text and converted here, so a wrong value names its key and says what to write;
/// the library's own typed getters would silently fall back to a default.
///
/// Sites are written as id lists plus keyed sections, which environment variables can override too:
/// ```yaml
/// sites: [acme]
/// site:
///   acme: { default_number: "+74950000000", pools: [acme-main] }
/// pool:
///   acme-main: { numbers: ["+74950000001"], idle_ttl: 20m }
/// ```
public enum ConfigLoader {
    public static func load(file: String?, environment: [String: String]) async throws -> AppConfig {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "calltrackd")
        ]
        if let file {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigProblem(key: "--config", "cannot read \(file): \(error); check the path and the YAML syntax")
            }
        }
        let keys = Keys(reader: ConfigReader(providers: providers))
        let config = try read(keys)
        let fileKeys = try file.map { path throws(ConfigProblem) in try ConfigFileKeys.dotted(inYAMLAt: path) } ?? []
        let unknown = UnknownKeys(consulted: keys.consulted, skipped: keys.skipped).problems(fileKeys: fileKeys, environment: environment)
        if let first = unknown.first { throw first.together(with: unknown.dropFirst()) }
        return config
    }

    static func read(_ keys: Keys) throws(ConfigProblem) -> AppConfig {
        var config = AppConfig()
        config.httpHost = keys.string("http.host") ?? config.httpHost
        config.httpPort = try keys.int("http.port", in: 0...65535) ?? config.httpPort
        config.api.maxBodyBytes = try keys.int("http.max_body_bytes", in: 1024...(1 << 24)) ?? config.api.maxBodyBytes
        if let idle = try keys.duration("http.idle_timeout") {
            guard idle >= .seconds(1), idle <= .seconds(3600) else {
                throw ConfigProblem(key: "http.idle_timeout", "write 1s to 1h: how long a connection may send nothing before it is closed")
            }
            config.httpIdleTimeout = idle
        }
        config.httpMaxConnections = try keys.int("http.max_connections", in: 16...1_000_000)
        switch (keys.string("http.tls.cert"), keys.string("http.tls.key")) {
        case (nil, nil): break
        case (let certificate?, let key?): config.httpTLS = TLSFiles(certificate: certificate, key: key)
        case (nil, _?): throw ConfigProblem(key: "http.tls.cert", "missing: http.tls.key is set; write the path of the certificate's PEM file too")
        case (_?, nil): throw ConfigProblem(key: "http.tls.key", "missing: http.tls.cert is set; write the path of the private key's PEM file too")
        }
        if let proxies = keys.list("http.trusted_proxies") {
            var networks: [IPNetwork] = []
            for (index, raw) in proxies.enumerated() {
                guard let network = IPNetwork(raw.trimmingSpaces) else {
                    throw ConfigProblem(key: "http.trusted_proxies[\(index)]", "'\(raw)' is not an address or a network: write e.g. 127.0.0.1, 10.0.0.0/8 or 2001:db8::/32")
                }
                networks.append(network)
            }
            config.api.trustedProxies = TrustedProxies(networks)
        }
        config.dataDirectory = keys.string("data.dir") ?? config.dataDirectory
        switch keys.string("storage.synchronous") {
        case nil, "full": config.storage.synchronousFull = true
        case "normal": config.storage.synchronousFull = false
        case let other?: throw ConfigProblem(key: "storage.synchronous", "'\(other)' is not a mode: write full (survives power loss) or normal (survives a crash)")
        }
        if let megabytes = try keys.int("storage.max_size_mb", in: 0...(1 << 30)), megabytes > 0 {
            config.storage.maxSizeBytes = Int64(megabytes) << 20
        }
        config.logLevel = try keys.oneOf("log.level", ["trace", "debug", "info", "notice", "warning", "error", "critical"]) ?? config.logLevel
        config.logFormat = try keys.oneOf("log.format", AppConfig.LogFormat.allCases.map(\.rawValue)).flatMap(AppConfig.LogFormat.init) ?? .text
        config.api.adminToken = keys.string("admin.token")
        if let token = config.api.adminToken, token.utf8.count < 16 {
            throw ConfigProblem(key: "admin.token", "too short to be safe: use at least 16 random characters (e.g. openssl rand -hex 24)")
        }
        config.api.tokens = try tokens(keys)
        config.api.benchEcho = try keys.bool("bench.echo_route") ?? false
        config.api.pingIntervalSeconds = try keys.int("snippet.ping_interval_s", in: 5...3600) ?? config.api.pingIntervalSeconds
        config.api.hideTimeoutMilliseconds = try keys.int("snippet.hide_timeout_ms", in: 0...10_000) ?? config.api.hideTimeoutMilliseconds
        if let code = keys.string("country") {
            guard let country = Country.known.first(where: { $0.isoCode == code.uppercased() }) else {
                throw ConfigProblem(key: "country", "'\(code)' is not a supported country: write one of \(Country.known.map(\.isoCode).joined(separator: ", "))")
            }
            config.country = country
        }
        if let kinds = keys.list("identity.link_by") {
            config.api.identityLinks = []
            for (index, raw) in kinds.enumerated() {
                guard let kind = VisitorIdentifier.Kind(rawValue: raw), VisitorIdentifier.Kind.fromSessions.contains(kind) else {
                    let choices = VisitorIdentifier.Kind.allCases.filter(VisitorIdentifier.Kind.fromSessions.contains).map(\.rawValue)
                    throw ConfigProblem(key: "identity.link_by[\(index)]", "'\(raw)' is not an identifier a visit carries: write any of \(choices.joined(separator: ", ")), or [] to link visitors by calls alone")
                }
                config.api.identityLinks.insert(kind)
            }
        }
        config.perIP = try limit(keys, "limits.per_ip", default: config.perIP)
        config.perVisitor = try limit(keys, "limits.per_visitor", default: config.perVisitor)
        if let sweep = try keys.duration("leases.sweep_interval") { config.sweepInterval = sweep }
        config.retention = try retention(keys)
        config.statsMinutesKept = try keys.duration("stats.minutes_kept") ?? config.statsMinutesKept
        config.statsHoursKept = try keys.duration("stats.hours_kept") ?? config.statsHoursKept
        guard config.statsMinutesKept >= .seconds(86_400), config.statsHoursKept >= config.statsMinutesKept else {
            throw ConfigProblem(key: "stats.minutes_kept", "keep minutes at least 1d and hours at least as long as minutes: e.g. 30d and 400d")
        }
        config.sites = try sites(keys, country: config.country)
        config.ami = try ami(keys, country: config.country)
        config.leads = try leads(keys, country: config.country)
        config.routing = try routing(keys, country: config.country)
        config.dealerStatsKept = try keys.duration("dealer_stats.hours_kept") ?? config.dealerStatsKept
        guard config.dealerStatsKept >= .seconds(86_400) else {
            throw ConfigProblem(key: "dealer_stats.hours_kept", "keep dealer statistics at least 1d: e.g. 400d, so a review compares year over year")
        }
        config.callbackWindow = try keys.duration("dealer_stats.callback_window") ?? config.callbackWindow
        guard config.callbackWindow >= .seconds(60), config.callbackWindow <= .seconds(30 * 86_400) else {
            throw ConfigProblem(key: "dealer_stats.callback_window", "a dealer calls a missed caller back within 1m to 30d: e.g. 30m")
        }
        config.agi = try agi(keys)
        config.webhooks = try webhooks(keys)
        config.ga4 = try ga4(keys)
        if try keys.bool("postgres.enabled") ?? (keys.string("postgres.url") != nil) {
            var postgres = PostgresSettings(conninfo: keys.string("postgres.url") ?? "")
            postgres.schema = keys.string("postgres.schema") ?? postgres.schema
            postgres.channel = keys.string("postgres.channel") ?? postgres.channel
            postgres.syncInterval = try keys.duration("postgres.sync_interval") ?? postgres.syncInterval
            guard postgres.syncInterval >= .milliseconds(100), postgres.syncInterval <= .seconds(3_600) else {
                throw ConfigProblem(key: "postgres.sync_interval", "read outcome_report and copy ad costs every 100ms to 1h: e.g. 2s")
            }
            do {
                _ = try PostgresSchema(name: postgres.schema, channel: postgres.channel)
            } catch {
                throw ConfigProblem(key: error.description.contains("channel") ? "postgres.channel" : "postgres.schema", error.description)
            }
            config.postgres = postgres
        } else {
            keys.skip("postgres", advice: "the postgres section is read only when postgres.url is set: set postgres.url or remove this key")
        }
        return config
    }

    /// `privacy.retention` (visitor identifiers, deleted when last seen longer ago) and `privacy.redact_after.<kind>`
    /// (each kind of personal data, redacted that long after the visit or call began).
    private static func retention(_ keys: Keys) throws(ConfigProblem) -> RetentionPolicy {
        var policy = RetentionPolicy()
        if let retention = try keys.duration("privacy.retention") {
            guard retention >= .seconds(30 * 86_400) else {
                throw ConfigProblem(key: "privacy.retention", "shorter than 30 days would forget visitors before their calls: write e.g. 730d")
            }
            policy.identifiers = retention
        }
        for kind in PersonalData.allCases {
            let key = "privacy.redact_after.\(kind.rawValue)"
            guard let period = try keys.duration(key) else { continue }
            let minimum = RetentionPolicy.minimum[kind]!
            guard period >= minimum else {
                let days = minimum.components.seconds / 86_400
                throw ConfigProblem(key: key, "shorter than \(days) day\(days == 1 ? "" : "s") is not allowed (\(kind == .sessions ? "visits must outlive the calls and repeats that can still match them" : "the daily sweep needs a day")): write e.g. \(RetentionPolicy.defaults[kind]!.components.seconds / 86_400)d")
            }
            policy.redactAfter[kind] = period
        }
        return policy
    }

    /// `tokens` and `token.<name>.*`: admin API tokens, each with a scope, kept only as SHA-256 digests.
    private static func tokens(_ keys: Keys) throws(ConfigProblem) -> [APIToken] {
        var tokens: [APIToken] = []
        for name in keys.list("tokens") ?? [] {
            let p = "token.\(name)"
            guard let scope = try keys.oneOf("\(p).scope", TokenScope.allCases.map(\.rawValue)).flatMap(TokenScope.init) else {
                throw ConfigProblem(key: "\(p).scope", "missing: write admin (everything), read (calls, leads, pools, sites) or connector (identity links)")
            }
            let token: APIToken
            switch (keys.string("\(p).sha256"), keys.string("\(p).secret")) {
            case (let hex?, nil):
                guard let digest = APIToken.digest(hex: hex) else {
                    throw ConfigProblem(key: "\(p).sha256", "not a SHA-256 digest: write the 64 hex digits `calltrackd new-token` printed (or `printf %s TOKEN | sha256sum`)")
                }
                token = APIToken(name: name, scope: scope, sha256: digest)
            case (nil, let secret?):
                guard secret.utf8.count >= 16 else {
                    throw ConfigProblem(key: "\(p).secret", "too short to be safe: use at least 16 random characters (`calltrackd new-token` makes one)")
                }
                token = APIToken(name: name, scope: scope, secret: secret)
            case (nil, nil):
                throw ConfigProblem(key: "\(p).sha256", "missing: write the token's SHA-256 (`calltrackd new-token --name \(name) --scope \(scope.rawValue)` prints it), or token.\(name).secret")
            case (_?, _?):
                throw ConfigProblem(key: "\(p).secret", "set token.\(name).sha256 or token.\(name).secret, not both")
            }
            if let twin = tokens.first(where: { $0.sha256 == token.sha256 }) {
                throw ConfigProblem(key: "\(p)", "the same token as token.\(twin.name): give every token its own secret")
            }
            tokens.append(token)
        }
        return tokens
    }

    /// `leads.*`: what makes a call a new lead, a repeat, or junk.
    private static func leads(_ keys: Keys, country: Country) throws(ConfigProblem) -> LeadRules {
        var leads = LeadRules()
        leads.uniquenessWindow = try keys.duration("leads.uniqueness_window") ?? leads.uniquenessWindow
        if let scope = try keys.oneOf("leads.uniqueness_scope", LeadRules.Scope.allCases.map(\.rawValue)) {
            leads.uniquenessScope = LeadRules.Scope(rawValue: scope)!
        }
        if let seconds = try keys.int("leads.min_talk_seconds", in: 0...3600) { leads.minTalkSeconds = Double(seconds) }
        leads.anonymousIsJunk = try keys.bool("leads.anonymous_is_junk") ?? leads.anonymousIsJunk
        for (index, raw) in (keys.list("leads.block_list") ?? []).enumerated() {
            do {
                leads.blockList.insert(try PhoneNumber.parse(raw, defaultCountry: country))
            } catch {
                throw ConfigProblem(key: "leads.block_list[\(index)]", "'\(raw)' is not a phone number (\(error))")
            }
        }
        return leads
    }

    /// `ami.*`: present when `ami.host` is set.
    private static func ami(_ keys: Keys, country: Country) throws(ConfigProblem) -> AMIConfiguration? {
        guard let host = keys.string("ami.host") else {
            keys.skip("ami", advice: "the ami section is read only when ami.host is set: set ami.host (Asterisk's manager address) or remove this key")
            return nil
        }
        guard let username = keys.string("ami.username") else {
            throw ConfigProblem(key: "ami.username", "missing: the manager user from Asterisk's manager.conf (see asterisk/manager.conf.sample)")
        }
        guard let secret = keys.string("ami.secret") else {
            throw ConfigProblem(key: "ami.secret", "missing: the manager user's secret (prefer the env variable CALLTRACKD_AMI_SECRET)")
        }
        var ami = AMIConfiguration(host: host, username: username, secret: secret, defaultCountry: country)
        ami.port = try keys.int("ami.port", in: 1...65535) ?? ami.port
        if let auth = try keys.oneOf("ami.auth", AMILogin.Auth.allCases.map(\.rawValue)) { ami.auth = AMILogin.Auth(rawValue: auth)! }
        ami.events = keys.string("ami.events") ?? ami.events
        ami.inboundContext = keys.string("ami.inbound_context") ?? ami.inboundContext
        ami.trackingVariable = keys.string("ami.tracking_variable")
        ami.maxLineBytes = try keys.int("ami.max_line_bytes", in: 256...(1 << 20)) ?? ami.maxLineBytes
        ami.maxMessageBytes = try keys.int("ami.max_message_bytes", in: 1024...(1 << 24)) ?? ami.maxMessageBytes
        ami.pingInterval = try keys.duration("ami.ping_interval") ?? ami.pingInterval
        ami.pingTimeout = try keys.duration("ami.ping_timeout") ?? ami.pingTimeout
        ami.backoff.maximum = try keys.duration("ami.reconnect_max") ?? ami.backoff.maximum
        ami.filterEvents = try keys.bool("ami.filter_events") ?? ami.filterEvents
        return ami
    }

    private static func limit(_ keys: Keys, _ prefix: String, default value: FloodGuard.Limit) throws(ConfigProblem) -> FloodGuard.Limit {
        let burst = try keys.int("\(prefix).burst", in: 1...1_000_000).map(Double.init) ?? value.burst
        let perMinute = try keys.int("\(prefix).per_minute", in: 1...10_000_000).map(Double.init) ?? value.perMinute
        return FloodGuard.Limit(burst: burst, perMinute: perMinute)
    }

    private static func sites(_ keys: Keys, country: Country) throws(ConfigProblem) -> [Site] {
        var sites: [Site] = []
        for id in keys.list("sites") ?? [] {
            let prefix = "site.\(id)"
            guard let defaultNumber = keys.string("\(prefix).default_number") else {
                throw ConfigProblem(key: "\(prefix).default_number", "missing: every site needs the number shown when no tracking number applies")
            }
            var pools: [PoolDefinition] = []
            for poolID in keys.list("\(prefix).pools") ?? [] {
                let p = "pool.\(poolID)"
                guard let numbers = keys.list("\(p).numbers"), !numbers.isEmpty else {
                    throw ConfigProblem(key: "\(p).numbers", "missing: list the pool's tracking numbers, or remove '\(poolID)' from \(prefix).pools")
                }
                pools.append(PoolDefinition(
                    id: poolID, numbers: numbers, idleTtl: keys.string("\(p).idle_ttl"), maxAge: keys.string("\(p).max_age"),
                    cooldown: keys.string("\(p).cooldown"), onExhaustion: keys.string("\(p).on_exhaustion"),
                    segment: keys.string("\(p).segment"), leaseOn: keys.string("\(p).lease_on"),
                    interactionSeconds: try keys.int("\(p).interaction_seconds", in: 0...3600),
                    defaultSource: keys.string("\(p).default_source")))
            }
            var statics: [StaticNumberDefinition] = []
            for name in keys.list("\(prefix).static_numbers") ?? [] {
                let s = "static.\(name)"
                guard let number = keys.string("\(s).number") else {
                    throw ConfigProblem(key: "\(s).number", "missing: a static number needs its number and source")
                }
                statics.append(StaticNumberDefinition(
                    number: number, utmSource: keys.string("\(s).utm_source"), utmMedium: keys.string("\(s).utm_medium"),
                    utmCampaign: keys.string("\(s).utm_campaign"), channel: keys.string("\(s).channel")))
            }
            do {
                // Checked under the keys the user wrote (`pool.<id>…`, `static.<name>…`), before the site as a whole.
                for pool in pools { _ = try pool.resolve(country: country, keyPrefix: "pool.\(pool.id)") }
                for (name, item) in zip(keys.list("\(prefix).static_numbers") ?? [], statics) {
                    _ = try item.resolve(country: country, keyPrefix: "static.\(name)")
                }
            } catch {
                throw ConfigProblem(key: error.key, error.message)
            }
            let definition = SiteDefinition(
                id: id, defaultNumber: defaultNumber, pageNumbers: keys.list("\(prefix).page_numbers"),
                origins: keys.list("\(prefix).origins"), mask: keys.string("\(prefix).mask"),
                selectors: keys.list("\(prefix).selectors"), respectDnt: try keys.bool("\(prefix).respect_dnt"),
                pools: pools, staticNumbers: statics, unsegmentedNumber: keys.string("\(prefix).unsegmented_number"),
                dealer: keys.string("\(prefix).dealer"), defaultSource: keys.string("\(prefix).default_source"))
            do {
                sites.append(try definition.resolve(country: country, keyPrefix: prefix))
            } catch {
                throw ConfigProblem(key: error.key, error.message)
            }
        }
        try checkNumbersUnique(sites)
        return sites
    }

    private static func checkNumbersUnique(_ sites: [Site]) throws(ConfigProblem) {
        var owner: [PhoneNumber: String] = [:]
        for site in sites {
            for pool in site.pools {
                for number in pool.numbers {
                    if let other = owner[number], other != pool.id {
                        throw ConfigProblem(key: "pool.\(pool.id).numbers", "\(number) is also in pool '\(other)': a number belongs to at most one pool")
                    }
                    owner[number] = pool.id
                }
            }
        }
    }
}

/// Text lookups with conversions that report the key. Remembers every key it was asked for, so keys the
/// loader never reads can be reported as mistakes (`UnknownKeys`).
final class Keys {
    let reader: ConfigReader
    /// Every dotted key looked up, whether or not it was set.
    private(set) var consulted: Set<String> = []
    /// Sections the loader read no further (`ami.*` without `ami.host`), with what to do about a key in them.
    private(set) var skipped: [UnknownKeys.SkippedSection] = []

    init(reader: ConfigReader) { self.reader = reader }

    func key(_ dotted: String) -> ConfigKey { ConfigKey(dotted.split(separator: ".").map(String.init)) }

    /// Says that the keys under `prefix` were not read, and why; a key set there is reported with `advice`.
    func skip(_ prefix: String, advice: String) {
        skipped.append(UnknownKeys.SkippedSection(prefix: prefix, advice: advice))
    }

    func string(_ dotted: String) -> String? {
        consulted.insert(dotted)
        return reader.string(forKey: key(dotted)).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A YAML list, or a comma-separated string (how environment variables write lists).
    func list(_ dotted: String) -> [String]? {
        consulted.insert(dotted)
        if let array = reader.stringArray(forKey: key(dotted)) { return array }
        return string(dotted).map { $0.split(separator: ",").map { String($0).trimmingSpaces } }
    }

    func int(_ dotted: String, in range: ClosedRange<Int>) throws(ConfigProblem) -> Int? {
        guard let text = string(dotted) else { return nil }
        guard let value = Int(text.trimmingSpaces), range.contains(value) else {
            throw ConfigProblem(key: dotted, "'\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ dotted: String) throws(ConfigProblem) -> Bool? {
        guard let text = string(dotted) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigProblem(key: dotted, "'\(text)' is not true or false")
        }
    }

    func oneOf(_ dotted: String, _ choices: [String]) throws(ConfigProblem) -> String? {
        guard let text = string(dotted) else { return nil }
        guard choices.contains(text.lowercased()) else {
            throw ConfigProblem(key: dotted, "'\(text)' is not allowed: write one of \(choices.joined(separator: ", "))")
        }
        return text.lowercased()
    }

    func duration(_ dotted: String) throws(ConfigProblem) -> Duration? {
        guard let text = string(dotted) else { return nil }
        guard let value = DurationText.parse(text), value > .zero else {
            throw ConfigProblem(key: dotted, "'\(text)' is not a duration: write e.g. 5s, 20m or 8h")
        }
        return value
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
