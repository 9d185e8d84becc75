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
    /// GA4's session id, the number the snippet read from the `_ga_<container-id>` cookie (`GASessionID`).
    var ga_session_id: String?
    var interaction: Bool?
    var dnt: Bool?

    /// The source of the visit; UTM tags missing from the body are read from the landing URL.
    var source: MarketingSource {
        let query = QueryParameters(url: landing_url, keys: TrackingKey.names)
        func pick(_ explicit: String?, _ key: TrackingKey) -> String? {
            (explicit ?? query[key.rawValue]).flatMap { Self.clean($0, limit: 256) }
        }
        return MarketingSource(
            utmSource: pick(utm_source, .utm_source), utmMedium: pick(utm_medium, .utm_medium),
            utmCampaign: pick(utm_campaign, .utm_campaign), utmContent: pick(utm_content, .utm_content),
            utmTerm: pick(utm_term, .utm_term),
            clickIDs: ClickIDs(
                gclid: pick(gclid, .gclid), yclid: pick(yclid, .yclid), fbclid: pick(fbclid, .fbclid), msclkid: pick(msclkid, .msclkid)),
            referrer: referrer.flatMap { Self.clean($0, limit: 2048) },
            landingURL: landing_url.flatMap { Self.clean($0, limit: 2048) })
    }

    /// The query keys a landing URL is read for, each its slot in `QueryParameters`.
    enum TrackingKey: Int, CaseIterable {
        case utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, yclid, fbclid, msclkid

        static let names = allCases.map { Array("\($0)".utf8) }
    }

    /// Empty strings are absent; very long ones are cut so one request cannot bloat the store.
    static func clean(_ value: String, limit: Int) -> String? {
        // Foundation's trimming is slow and values rarely need it: only trim when an end is white space.
        guard let first = value.utf8.first, let last = value.utf8.last else { return nil }
        let isSpace = { (byte: UInt8) in byte == 0x20 || (0x09...0x0D).contains(byte) }
        let trimmed = isSpace(first) || isSpace(last) ? value.trimmingCharacters(in: .whitespacesAndNewlines) : value
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

/// `key=value` pairs of a URL's query, percent-decoded: only the named keys, the first of each.
///
/// Read from the bytes, with one slot per key: every allocation parses its landing URL, and a
/// dictionary of substrings made this 3.4 µs of each one's event-loop time.
struct QueryParameters {
    private var values: [String?]

    /// `keys` as UTF-8 bytes; `self[i]` is the value of `keys[i]`.
    init(url: String?, keys: [[UInt8]]) {
        values = Array(repeating: nil, count: keys.count)
        guard var url else { return }
        url.withUTF8 { bytes in
            guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return }
            let end = bytes[(mark + 1)...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
            var start = mark + 1
            while start < end {
                let pairEnd = bytes[start..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
                let equals = bytes[start..<pairEnd].firstIndex(of: UInt8(ascii: "="))
                let key = bytes[start..<(equals ?? pairEnd)]
                if let slot = keys.firstIndex(where: { $0.count == key.count && $0.elementsEqual(key) }), values[slot] == nil {
                    values[slot] = Self.decode(UnsafeBufferPointer(rebasing: bytes[(equals.map { $0 + 1 } ?? pairEnd)..<pairEnd]))
                }
                start = pairEnd + 1
            }
        }
    }

    subscript(_ slot: Int) -> String? { values[slot] }

    private static func decode(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        // Most values need no decoding; Foundation's decoding is the slow part of this parser.
        guard raw.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return text }
        return text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
