import Foundation
import CallTrackCore

/// The body of `POST /v1/sessions` as the snippet sends it (see docs/openapi.yaml).
struct SessionRequestBody: Decodable, Sendable {
    var site: String
    var visitor_id: String?
    var session_id: String?
    var landing_url: String?
    var referrer: String?
    var utm_source: String?
    var utm_medium: String?
    var utm_campaign: String?
    var utm_content: String?
    var utm_term: String?
    var gclid: String?
    var yclid: String?
    var fbclid: String?
    var msclkid: String?
    var ga_client_id: String?
    var ym_uid: String?
    var interaction: Bool?
    var dnt: Bool?

    /// The source of the visit; UTM tags missing from the body are read from the landing URL.
    var source: MarketingSource {
        let query = QueryParameters(url: landing_url)
        func pick(_ explicit: String?, _ name: String) -> String? {
            (explicit ?? query[name]).flatMap { Self.clean($0, limit: 256) }
        }
        return MarketingSource(
            utmSource: pick(utm_source, "utm_source"), utmMedium: pick(utm_medium, "utm_medium"),
            utmCampaign: pick(utm_campaign, "utm_campaign"), utmContent: pick(utm_content, "utm_content"),
            utmTerm: pick(utm_term, "utm_term"),
            clickIDs: ClickIDs(
                gclid: pick(gclid, "gclid"), yclid: pick(yclid, "yclid"),
                fbclid: pick(fbclid, "fbclid"), msclkid: pick(msclkid, "msclkid")),
            referrer: referrer.flatMap { Self.clean($0, limit: 2048) },
            landingURL: landing_url.flatMap { Self.clean($0, limit: 2048) })
    }

    /// Empty strings are absent; very long ones are cut so one request cannot bloat the store.
    static func clean(_ value: String, limit: Int) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        return trimmed.utf8.count <= limit ? trimmed : String(trimmed.prefix(limit))
    }
}

/// The body of `POST /v1/sessions/{id}/ping`.
struct PingRequestBody: Decodable, Sendable {
    var site: String
    var visitor_id: String?
}

/// What the snippet gets back: the number to show and how to behave.
struct SessionAnswer: Encodable, Sendable {
    var session_id: String
    var visitor_id: String
    var number: String
    var display: String
    var kind: String
    var reason: String?
    var lease_on: String
    var interaction_delay_s: Int
    var ping_interval_s: Int
    var expires_at: String?
    var site: SiteSnippetConfig
}

/// The part of a site's configuration the snippet needs.
struct SiteSnippetConfig: Encodable, Sendable {
    var numbers: [String]
    var selectors: [String]
    var mask: String
    var respect_dnt: Bool
    var hide_timeout_ms: Int
}

/// `key=value` pairs of a URL's query, percent-decoded.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(url: String?) {
        guard let url, let start = url.firstIndex(of: "?") else { return }
        var query = url[url.index(after: start)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard let key = parts.first.map(String.init) else { continue }
            let raw = parts.count > 1 ? String(parts[1]) : ""
            // Most values need no decoding; Foundation's decoding is the slow part of this parser.
            let encoded = raw.utf8.contains { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }
            let value = encoded ? (raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw) : raw
            if values[key] == nil { values[key] = value }
        }
    }

    subscript(_ key: String) -> String? { values[key] }
}
