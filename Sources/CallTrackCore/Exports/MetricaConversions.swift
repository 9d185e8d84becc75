/// Yandex Metrica's offline conversions upload (Metrica → Goals → Offline conversions): a CSV with the header
/// `ClientId,Target,DateTime,Price,Currency`, one row per conversion; `ClientId` is the visitor's `_ym_uid`,
/// `Target` the goal's identifier as created in Metrica, `DateTime` a Unix timestamp in seconds. Calls carry no
/// price (`Price` and `Currency` stay empty); won deals carry their amount and its currency.
public enum MetricaConversions {
    public static let header = "ClientId,Target,DateTime,Price,Currency"

    /// The CSV of every conversion in `leads` whose visit had a `_ym_uid`, in time order; lines end in CRLF, as
    /// RFC 4180 has it.
    public static func csv(_ leads: [LeadConversion], target: String) -> String {
        let rows = leads.filter { $0.ymUID?.isEmpty == false }.sorted { ($0.at, $0.callID) < ($1.at, $1.callID) }.map { lead in
            [field(lead.ymUID ?? ""), field(target), String(lead.at.microsecondsSinceEpoch / 1_000_000),
             lead.price?.decimal ?? "", lead.price?.currency ?? ""].joined(separator: ",")
        }
        return ([header] + rows).map { $0 + "\r\n" }.joined()
    }

    /// A field quoted when it holds a comma, a quote or a line break (a `_ym_uid` is digits; a goal is whatever
    /// the user named it).
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + String(text.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] }) + "\""
    }
}
