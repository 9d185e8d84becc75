import Analytics
import CallTrackCore
import Destinations

/// `site.<id>.ga4` and `ga4.<id>.*`: the GA4 properties each site's calls and won deals are sent to as
/// Measurement Protocol events (docs/analytics.md).
/// ```yaml
/// site:
///   acme: { default_number: "+74950000000", ga4: [main] }
/// ga4:
///   main:
///     measurement_id: G-ABC123XYZ9      # the web stream's measurement id
///     api_secret: "…"                   # the stream's Measurement Protocol API secret; better CALLTRACKD_GA4_MAIN_API_SECRET
///     endpoint: https://www.google-analytics.com/mp/collect   # default; http:// only to 127.0.0.1, ::1 or localhost
///     match_kinds: [exact, late, repeat]  # the calls that count (default); add shared to count collisions too
///     call_event: calltrackd_call       # or a recommended event, e.g. generate_lead with call_value
///     call_value: "1000"                # optional: value of a qualified call, with currency
///     currency: RUB                     # the call value's currency
///     won_event: purchase               # a won deal: transaction_id = call id, value and currency of the deal
///     dead_letter_after: 10             # consecutive failed attempts of one event before it is set aside
///     retry_initial: 1s                 # first wait; doubles per failure, with jitter, up to retry_max
///     retry_max: 5m
///     timeout: 10s                      # one attempt
/// ```
extension ConfigLoader {
    static func ga4(_ keys: Keys) throws(ConfigProblem) -> [GA4Property] {
        var sitesOf: [String: Set<String>] = [:]
        var order: [String] = []
        for site in keys.list("sites") ?? [] {
            for (index, id) in (keys.list("site.\(site).ga4") ?? []).enumerated() {
                guard SiteDefinition.isValidID(id) else {
                    throw ConfigProblem(key: "site.\(site).ga4[\(index)]", "'\(id)' is not a valid GA4 property id: use letters, digits, '-' and '_' (1–64), e.g. main")
                }
                if sitesOf[id] == nil { order.append(id) }
                sitesOf[id, default: []].insert(site)
            }
        }
        return try order.map { id throws(ConfigProblem) in try property(keys, id: id, sites: sitesOf[id] ?? []) }
    }

    private static func property(_ keys: Keys, id: String, sites: Set<String>) throws(ConfigProblem) -> GA4Property {
        let p = "ga4.\(id)"
        guard let measurementID = keys.string("\(p).measurement_id") else {
            throw ConfigProblem(key: "\(p).measurement_id", "missing: write the web stream's measurement id, e.g. G-ABC123XYZ9 (Admin › Data streams › the stream)")
        }
        if let problem = GA4Property.measurementIDProblem(measurementID) { throw ConfigProblem(key: "\(p).measurement_id", problem) }
        guard let secret = keys.string("\(p).api_secret") else {
            throw ConfigProblem(key: "\(p).api_secret", "missing: write the stream's Measurement Protocol API secret (Admin › Data streams › the stream › Measurement Protocol API secrets › Create); prefer the env variable \(UnknownKeys.environmentName(of: "\(p).api_secret"))")
        }
        guard secret.utf8.count >= 8, secret.utf8.count <= 256, !secret.contains(where: \.isWhitespace) else {
            throw ConfigProblem(key: "\(p).api_secret", "not an API secret: copy the secret's value (8 to 256 characters, no spaces) from the stream's Measurement Protocol API secrets")
        }
        let endpointText = keys.string("\(p).endpoint") ?? GA4Property.defaultEndpoint
        let endpoint: DestinationURL
        do { endpoint = try DestinationURL(endpointText) } catch { throw ConfigProblem(key: "\(p).endpoint", error.description) }
        var property = GA4Property(id: id, sites: sites, measurementID: measurementID, apiSecret: secret, endpoint: endpoint)
        if let kinds = keys.list("\(p).match_kinds") {
            var chosen: Set<MatchKind> = []
            for text in kinds {
                guard let kind = MatchKind(rawValue: text.lowercased()), kind != .unmatched else {
                    throw ConfigProblem(key: "\(p).match_kinds", "'\(text)' is not a match kind that names a visit: list some of exact, shared, late, repeat, static")
                }
                chosen.insert(kind)
            }
            guard !chosen.isEmpty else {
                throw ConfigProblem(key: "\(p).match_kinds", "empty: list the match kinds whose calls count, e.g. [exact, late, repeat]")
            }
            property.matchKinds = chosen
        }
        for (key, name) in [("call_event", \GA4Property.callEvent), ("won_event", \GA4Property.wonEvent)] {
            guard let text = keys.string("\(p).\(key)") else { continue }
            if let problem = GA4EventName.problem(text) { throw ConfigProblem(key: "\(p).\(key)", problem) }
            property[keyPath: name] = text
        }
        guard property.callEvent != property.wonEvent else {
            throw ConfigProblem(key: "\(p).won_event", "the same as \(p).call_event: give a won deal its own event (e.g. purchase)")
        }
        let currency = keys.string("\(p).currency")
        if let text = keys.string("\(p).call_value") {
            guard let currency else {
                throw ConfigProblem(key: "\(p).currency", "missing: \(p).call_value needs its currency, ISO 4217's three letters, e.g. RUB")
            }
            do throws(MoneyError) {
                let value = try Money.parse(text, currency: currency)
                guard value.hundredths >= 0 else { throw MoneyError.notAnAmount(text) }
                property.callValue = value
            } catch {
                throw ConfigProblem(key: error.isCurrency ? "\(p).currency" : "\(p).call_value", error.description)
            }
        } else if currency != nil {
            throw ConfigProblem(key: "\(p).currency", "set without \(p).call_value: remove it, or give qualified calls a value (a won deal sends its own currency)")
        }
        property.deadLetterAfter = try keys.int("\(p).dead_letter_after", in: 1...1000) ?? property.deadLetterAfter
        let initial = try keys.duration("\(p).retry_initial") ?? property.retry.initial
        let maximum = try keys.duration("\(p).retry_max") ?? max(initial, property.retry.maximum)
        guard initial >= .milliseconds(10), initial <= .seconds(3600) else {
            throw ConfigProblem(key: "\(p).retry_initial", "write 10ms to 1h: the wait after a first failed attempt (doubling after each next one)")
        }
        guard maximum >= initial, maximum <= .seconds(86_400) else {
            throw ConfigProblem(key: "\(p).retry_max", "write at least \(p).retry_initial and at most 24h: the longest wait between two attempts")
        }
        property.retry = RetrySchedule(initial: initial, maximum: maximum)
        if let timeout = try keys.duration("\(p).timeout") {
            guard timeout >= .milliseconds(100), timeout <= .seconds(300) else {
                throw ConfigProblem(key: "\(p).timeout", "write 100ms to 5m: how long one attempt may take")
            }
            property.timeout = timeout
        }
        return property
    }
}

extension MoneyError {
    fileprivate var isCurrency: Bool {
        if case .notACurrency = self { true } else { false }
    }
}
