import CallTrackCore
import Destinations

/// One GA4 property as configured (`ga4.<id>.*`, listed by the sites whose calls it gets in `site.<id>.ga4`):
/// where the Measurement Protocol events go, which calls count, what the events are named, and how hard to try.
public struct GA4Property: Sendable, Hashable {
    /// The config id (`ga4.<id>`): names the property's cursor (`ga4:<id>`) and its metrics.
    public var id: String
    /// The sites whose leads it receives (those that list it in `site.<id>.ga4`).
    public var sites: Set<String>
    /// The web stream's measurement id, `G-XXXXXXXXXX`.
    public var measurementID: String
    /// The stream's Measurement Protocol API secret (Admin › Data streams › the stream › Measurement Protocol API secrets).
    public var apiSecret: String
    /// The collect endpoint: GA4's own by default; plain http only to loopback (a local receiver in tests).
    public var endpoint: DestinationURL
    /// The match kinds whose calls count as qualified calls (junk and repeats never do).
    public var matchKinds: Set<MatchKind> = GA4Property.defaultMatchKinds
    /// The event a qualified call sends.
    public var callEvent = GA4Property.defaultCallEvent
    /// A value the call event carries (`value` and `currency`), e.g. with the recommended `generate_lead`; nil: none.
    public var callValue: Money?
    /// The event a won deal sends, with `transaction_id` = the call id and the deal's `value` and `currency`.
    public var wonEvent = GA4Property.defaultWonEvent
    /// Consecutive failed attempts of one event after which its lead's change is set aside as a dead letter.
    public var deadLetterAfter = 10
    public var retry = RetrySchedule()
    /// One attempt's deadline: connection, request and answer.
    public var timeout: Duration = .seconds(10)

    /// `exact`, `late` and `repeat` name the caller's visit with confidence; `shared` (a collision: one of several
    /// visits) would credit a conversion to a visitor who may not have called, so it is opt-in. `static` and
    /// `unmatched` calls have no visit, hence no client id.
    public static let defaultMatchKinds: Set<MatchKind> = [.exact, .late, .repeat]
    public static let defaultCallEvent = "calltrackd_call"
    public static let defaultWonEvent = "purchase"
    public static let defaultEndpoint = "https://www.google-analytics.com/mp/collect"

    public init(id: String, sites: Set<String>, measurementID: String, apiSecret: String, endpoint: DestinationURL) {
        self.id = id
        self.sites = sites
        self.measurementID = measurementID
        self.apiSecret = apiSecret
        self.endpoint = endpoint
    }

    /// The name of its cursor in the state database and of its `destination` metric label.
    public var destinationName: String { Self.destinationName(id) }

    public static func destinationName(_ id: String) -> String { "ga4:\(id)" }

    /// The endpoint with `measurement_id` and `api_secret` in the query, as the Measurement Protocol wants them.
    /// Holds the secret: never log it.
    public var collectURL: String {
        let separator = endpoint.text.contains("?") ? "&" : "?"
        return endpoint.text + separator + "measurement_id=" + Self.percentEncoded(measurementID)
            + "&api_secret=" + Self.percentEncoded(apiSecret)
    }

    /// The endpoint with the secret left out, for logs and `check-config`.
    public var redactedURL: String { endpoint.text + "?measurement_id=" + Self.percentEncoded(measurementID) }

    /// Why `text` is not a measurement id, or nil: `G-` and 4 to 20 letters or digits.
    public static func measurementIDProblem(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 6, bytes.count <= 22, bytes[0] == UInt8(ascii: "G"), bytes[1] == UInt8(ascii: "-"),
              bytes[2...].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }) else {
            return "'\(text)' is not a GA4 measurement id: write the web stream's id, G- and upper-case letters or digits (e.g. G-ABC123XYZ9; Admin › Data streams › the stream)"
        }
        return nil
    }

    /// RFC 3986's unreserved characters stay; every other byte is %XX.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
            }
        }
        return out
    }
}
