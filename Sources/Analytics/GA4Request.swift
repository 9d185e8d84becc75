import CallTrackCore

/// One Measurement Protocol request for one conversion of a lead, or why it is not sent.
///
/// ```json
/// POST /mp/collect?measurement_id=G-ABC123XYZ9&api_secret=…
/// {"client_id":"1234567890.1765000000","timestamp_micros":1765100000000000,
///  "events":[{"name":"purchase","params":{"session_id":"1765099000","engagement_time_msec":1,
///             "transaction_id":"1765100000.42","value":12500.50,"currency":"RUB","call_id":"1765100000.42"}}]}
/// ```
/// `timestamp_micros` is when it happened (the call's start; the deal's win), never older than GA4 accepts:
/// the Measurement Protocol backdates events by at most 72 hours, so an older one is skipped (`tooOld`), not
/// sent to be dropped. A lead whose visit carried no `_ga` client id cannot be tied to a GA4 user: `noClientID`.
public enum GA4Request {
    /// GA4 takes events up to 72 hours old; 5 minutes are kept back for clock skew and the request's own time.
    public static let maxBackdating: Duration = .seconds(72 * 3600 - 300)

    /// Why a conversion is not sent; recorded so it is not tried again, and counted.
    public enum SkipReason: String, Sendable, Hashable, CaseIterable {
        /// The visit carried no `_ga` cookie (or no visit: the call was not matched to one).
        case noClientID = "no_client_id"
        /// It happened longer ago than GA4 backdates events.
        case tooOld = "too_old"
    }

    public enum Decision: Sendable, Hashable {
        case send(body: [UInt8], eventName: String)
        case skip(SkipReason)
    }

    /// The request for `kind` of `lead` at `now`; `ids` are the analytics ids of the visit the lead was matched to.
    public static func build(_ kind: ConversionKind, of lead: Lead, ids: VisitAnalyticsIDs?, property: GA4Property, now: Timestamp) -> Decision {
        guard let clientID = ids?.gaClientID, !clientID.isEmpty else { return .skip(.noClientID) }
        let happened: Timestamp
        switch kind {
        case .call: happened = lead.startedAt
        case .won: happened = lead.wonDeal?.at ?? lead.changedAt
        }
        guard now - happened <= maxBackdating else { return .skip(.tooOld) }
        // An event "from the future" (the CRM's clock ahead of ours) is stamped now: GA4 refuses future times.
        let at = min(happened, now)
        var params = JSONObject()
        if let session = ids?.gaSessionID { params.string("session_id", session) }
        params.number("engagement_time_msec", "1")
        let name: String
        switch kind {
        case .call:
            name = property.callEvent
            if let value = property.callValue {
                params.number("value", value.decimal)
                params.string("currency", value.currency)
            }
            params.string("match_kind", lead.match.kind.rawValue)
        case .won:
            name = property.wonEvent
            params.string("transaction_id", lead.callID)
            if let amount = lead.wonDeal?.amount {
                params.number("value", amount.decimal)
                params.string("currency", amount.currency)
            }
        }
        params.string("call_id", lead.callID)
        var event = JSONObject()
        event.string("name", name)
        event.object("params", params)
        var body = JSONObject()
        body.string("client_id", clientID)
        body.number("timestamp_micros", String(at.microsecondsSinceEpoch))
        body.array("events", [event])
        return .send(body: body.bytes, eventName: name)
    }
}

/// A JSON object written member by member, in order. Strings are escaped; numbers are written as given (the caller
/// passes a JSON number: an integer, or `Money.decimal`, exact), and string parameters are cut to GA4's 100 characters.
struct JSONObject {
    private var members: [UInt8] = []

    /// GA4 drops parameter values longer than this.
    static let maxValueLength = 100

    mutating func string(_ key: String, _ value: String) {
        member(key)
        Self.appendString(String(value.prefix(Self.maxValueLength)), to: &members)
    }

    mutating func number(_ key: String, _ literal: String) {
        member(key)
        members.append(contentsOf: literal.utf8)
    }

    mutating func object(_ key: String, _ value: JSONObject) {
        member(key)
        members.append(contentsOf: value.bytes)
    }

    mutating func array(_ key: String, _ values: [JSONObject]) {
        member(key)
        members.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { members.append(UInt8(ascii: ",")) }
            members.append(contentsOf: value.bytes)
        }
        members.append(UInt8(ascii: "]"))
    }

    var bytes: [UInt8] { [UInt8(ascii: "{")] + members + [UInt8(ascii: "}")] }

    private mutating func member(_ key: String) {
        if !members.isEmpty { members.append(UInt8(ascii: ",")) }
        Self.appendString(key, to: &members)
        members.append(UInt8(ascii: ":"))
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20: out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
