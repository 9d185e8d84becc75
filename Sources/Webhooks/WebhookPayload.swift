import CallTrackCore

/// The body of a webhook request: one lead change (docs/openapi.yaml, `webhooks.leadChanged`).
///
/// ```json
/// {"type":"lead.changed","delivery_id":"crm:1042","change_id":1042,"endpoint":"crm",
///  "occurred_at":"2026-12-07T16:00:00Z","lead_version":3,"lead":{…the admin API's Lead…}}
/// ```
/// `lead_version` is the lead's revision: a receiver that already holds a higher one drops the update (a retry
/// or a replay can bring an older change after a newer one of the same lead; the lead itself is sent as it stands
/// when delivered, so it is never older than the change). `delivery_id` is the same for every attempt and replay
/// of a change to this endpoint: the receiver's idempotency key.
public struct WebhookPayload: Sendable {
    public static let leadChanged = "lead.changed"

    /// The change's JSON; `leadJSON` is the lead as the admin API shows it (encoded by the caller, so webhooks and
    /// `GET /v1/admin/leads` share one lead schema).
    public static func leadChange(lead: Lead, entry: OutboxEntry, endpoint: String, leadJSON: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(leadJSON.count + 200)
        out.append(contentsOf: "{\"type\":\"\(leadChanged)\",\"delivery_id\":".utf8)
        appendString("\(endpoint):\(entry.id)", to: &out)
        out.append(contentsOf: ",\"change_id\":\(entry.id),\"endpoint\":".utf8)
        appendString(endpoint, to: &out)
        out.append(contentsOf: ",\"occurred_at\":\"\(entry.enqueuedAt.iso8601)\",\"lead_version\":\(lead.revision),\"lead\":".utf8)
        out.append(contentsOf: leadJSON)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A JSON string literal.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(contentsOf: WebhookSignature.hex([byte]).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
