import CallTrackCore
import Destinations
import Foundation
import Webhooks

/// `site.<id>.webhooks` and `webhook.<id>.*`: the endpoints each site's lead changes are posted to.
/// ```yaml
/// site:
///   acme: { default_number: "+74950000000", webhooks: [crm] }
/// webhook:
///   crm:
///     url: https://crm.example.com/hooks/calltrackd   # https://, or http:// to 127.0.0.1, ::1 or localhost
///     secret: "…"                 # at least 16 characters; better CALLTRACKD_WEBHOOK_CRM_SECRET
///     name: "amoCRM"              # optional label
///     ca_file: /etc/calltrackd/crm-ca.pem   # optional: trust these CAs for this endpoint instead of the system's
///     dead_letter_after: 10       # consecutive failed attempts of one change before it is set aside
///     retry_initial: 1s           # first wait; doubles per failure, with jitter, up to retry_max
///     retry_max: 5m
///     timeout: 10s                # one attempt
///     concurrency: 1              # leads posted at once (one lead's changes always in order)
/// ```
/// An endpoint listed by several sites gets the leads of each.
extension ConfigLoader {
    static func webhooks(_ keys: Keys) throws(ConfigProblem) -> [WebhookEndpoint] {
        var sitesOf: [String: Set<String>] = [:]
        var order: [String] = []
        for site in keys.list("sites") ?? [] {
            for (index, id) in (keys.list("site.\(site).webhooks") ?? []).enumerated() {
                guard SiteDefinition.isValidID(id) else {
                    throw ConfigProblem(key: "site.\(site).webhooks[\(index)]", "'\(id)' is not a valid webhook id: use letters, digits, '-' and '_' (1–64)")
                }
                if sitesOf[id] == nil { order.append(id) }
                sitesOf[id, default: []].insert(site)
            }
        }
        return try order.map { id throws(ConfigProblem) in try endpoint(keys, id: id, sites: sitesOf[id] ?? []) }
    }

    private static func endpoint(_ keys: Keys, id: String, sites: Set<String>) throws(ConfigProblem) -> WebhookEndpoint {
        let p = "webhook.\(id)"
        guard let text = keys.string("\(p).url") else {
            throw ConfigProblem(key: "\(p).url", "missing: write the receiver's address, e.g. https://crm.example.com/hooks/calltrackd")
        }
        let url: WebhookURL
        do { url = try WebhookURL(text) } catch { throw ConfigProblem(key: "\(p).url", error.description) }
        guard let secret = keys.string("\(p).secret") else {
            throw ConfigProblem(key: "\(p).secret", "missing: write the secret the receiver checks signatures with, at least 16 random characters (e.g. openssl rand -hex 24); prefer the env variable \(UnknownKeys.environmentName(of: "\(p).secret"))")
        }
        guard secret.utf8.count >= 16 else {
            throw ConfigProblem(key: "\(p).secret", "too short to be safe: use at least 16 random characters (e.g. openssl rand -hex 24)")
        }
        var endpoint = WebhookEndpoint(id: id, name: keys.string("\(p).name"), sites: sites, url: url, secret: Array(secret.utf8))
        if let caFile = keys.string("\(p).ca_file") {
            guard url.isHTTPS else {
                throw ConfigProblem(key: "\(p).ca_file", "set for a plain http:// URL: remove it, or use https:// in \(p).url")
            }
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw ConfigProblem(key: "\(p).ca_file", "cannot read \(caFile): write the path of a PEM file with the certificate authorities to trust for this endpoint")
            }
            endpoint.caFile = caFile
        }
        endpoint.deadLetterAfter = try keys.int("\(p).dead_letter_after", in: 1...1000) ?? endpoint.deadLetterAfter
        let initial = try keys.duration("\(p).retry_initial") ?? endpoint.retry.initial
        let maximum = try keys.duration("\(p).retry_max") ?? max(initial, endpoint.retry.maximum)
        guard initial >= .milliseconds(10), initial <= .seconds(3600) else {
            throw ConfigProblem(key: "\(p).retry_initial", "write 10ms to 1h: the wait after a first failed attempt (doubling after each next one)")
        }
        guard maximum >= initial, maximum <= .seconds(86_400) else {
            throw ConfigProblem(key: "\(p).retry_max", "write at least \(p).retry_initial and at most 24h: the longest wait between two attempts")
        }
        endpoint.retry = RetrySchedule(initial: initial, maximum: maximum)
        if let timeout = try keys.duration("\(p).timeout") {
            guard timeout >= .milliseconds(100), timeout <= .seconds(300) else {
                throw ConfigProblem(key: "\(p).timeout", "write 100ms to 5m: how long one attempt may take")
            }
            endpoint.timeout = timeout
        }
        endpoint.concurrency = try keys.int("\(p).concurrency", in: 1...64) ?? endpoint.concurrency
        return endpoint
    }
}
