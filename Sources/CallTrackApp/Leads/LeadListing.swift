import CallTrackCore
import Foundation
import HTTPAPI
import Logging
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
                let data = if let lead = row.lead {
                    try? JSONEncoder.api.encode(LeadView(lead))
                } else {
                    try? JSONEncoder.api.encode(["call_id": row.callID, "error": "an older daemon's lead this one could not read"])
                }
                return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            }
        }
        if rows.isEmpty { return ["no leads yet"] }
        var lines = ["started (UTC)        call id                tracking      caller        match      conf  session                  last touch                 lead"]
        for row in rows {
            guard let lead = row.lead else {
                lines.append("\(row.callID): an older daemon's lead this one could not read")
                continue
            }
            let started = Date(timeIntervalSince1970: lead.startedAt.secondsSinceEpoch).ISO8601Format().prefix(19)
            let touch = lead.lastTouch.map(Self.describe) ?? "-"
            let verdict = lead.isLead ? "yes" : (lead.junkReason.map { "junk: \($0.rawValue)" } ?? lead.repeatOf.map { "repeat of \($0)" } ?? "no")
            lines.append([
                String(started).padding(21), lead.callID.padding(23), lead.trackingNumber.e164.padding(14),
                lead.callerText.padding(14), lead.match.kind.rawValue.padding(11), String(format: "%.2f", lead.match.confidence).padding(6),
                (lead.match.sessionID ?? "-").padding(25), touch.padding(27), verdict,
            ].joined())
        }
        return lines
    }

    /// `google / cpc / pumps`, or the channel when the touch has no UTM tags.
    static func describe(_ touch: Touch) -> String {
        let parts = [touch.source, touch.medium, touch.campaign].compactMap { $0 }
        return parts.isEmpty ? touch.channel.rawValue : parts.joined(separator: " / ")
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? String(prefix(width - 1)) + " " : self + String(repeating: " ", count: width - count)
    }
}
