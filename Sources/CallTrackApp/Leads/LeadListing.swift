import CallTrackCore
import Foundation
import HTTPAPI
import Logging
import PostgresSink
import Store

/// `calltrackd leads`: the newest leads from the SQLite state, one line each (or, with `--json`, each as the
/// admin API shows it).
public enum LeadListing {
    public static func lines(config: AppConfig, limit: Int, json: Bool) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            return ["no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir"]
        }
        let store = try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.leads"))
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let rows = try await ledger.leads(limit: max(1, limit))
        if json {
            // The admin API's view of each lead (GET /v1/admin/leads), one JSON object a line.
            return rows.map { row in
                let data = if let lead = LeadPayload.decode(row.payload) {
                    try? JSONEncoder.api.encode(LeadView(lead))
                } else {
                    try? JSONEncoder.api.encode(["call_id": row.callID, "error": "unreadable payload"])
                }
                return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            }
        }
        if rows.isEmpty { return ["no leads yet"] }
        var lines = ["started (UTC)        call id                tracking      caller        match      conf  session                  last touch                 lead"]
        for row in rows {
            guard let lead = LeadPayload.decode(row.payload) else {
                lines.append("\(row.callID): unreadable payload")
                continue
            }
            let started = Date(timeIntervalSince1970: lead.startedAt.secondsSinceEpoch).ISO8601Format().prefix(19)
            let touch = lead.lastTouch.flatMap(Self.describe) ?? "-"
            let verdict = lead.isLead ? "yes" : (lead.junkReason.map { "junk: \($0)" } ?? lead.repeatOf.map { "repeat of \($0)" } ?? "no")
            lines.append([
                String(started).padding(21), lead.callID.padding(23), lead.trackingNumber.padding(14),
                (lead.caller ?? "-").padding(14), lead.matchKind.padding(11), String(format: "%.2f", lead.matchConfidence).padding(6),
                (lead.sessionID ?? "-").padding(25), touch.padding(27), verdict,
            ].joined())
        }
        return lines
    }

    /// `google / cpc / pumps` from a touch's JSON.
    static func describe(_ touch: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(touch.utf8)) as? [String: Any] else { return nil }
        let parts = ["source", "medium", "campaign"].compactMap { object[$0] as? String }
        return parts.isEmpty ? object["channel"] as? String : parts.joined(separator: " / ")
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? String(prefix(width - 1)) + " " : self + String(repeating: " ", count: width - count)
    }
}
