import Analytics
import CallTrackCore
import Foundation
import HTTPAPI
import Logging
import Store

/// `calltrackd ga4`: each configured GA4 property's cursor lag and dead letters, and the conversions it sent and
/// skipped (with why), from the state database; the daemon may run.
public enum GA4Commands {
    public static func status(config: AppConfig, now: Timestamp, json: Bool) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            return ["no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir"]
        }
        if config.ga4.isEmpty { return ["no GA4 property configured (site.<id>.ga4, ga4.<id>.measurement_id): see docs/analytics.md"] }
        let store = try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.ga4"))
        let outbox = Outbox(store: store, topic: Outbox.leadTopic)
        let ledger = LeadLedger(store: store, outbox: outbox)
        let cursors = try await outbox.cursors()
        var rows: [PropertyStatus] = []
        for property in config.ga4 {
            let name = property.destinationName
            let stats = try await outbox.stats(for: name)
            let counts = try await ledger.conversionCounts(of: name)
            func sent(_ kind: ConversionKind) -> Int { counts.filter { $0.kind == kind && $0.outcome == .sent }.reduce(0) { $0 + $1.count } }
            var skipped: [String: Int] = [:]
            for count in counts where count.outcome == .skipped { skipped[count.reason ?? "-", default: 0] += count.count }
            rows.append(PropertyStatus(
                property: property.id, measurement_id: property.measurementID, cursor: cursors[name], waiting: stats.pending,
                oldest_waiting_seconds: stats.oldestPendingAt.map { max(0, Int((now - $0).secondsDouble)) }, dead_letters: stats.failed,
                calls_sent: sent(.call), deals_sent: sent(.won), skipped: skipped))
        }
        if json {
            return rows.map { row in (try? JSONEncoder.api.encode(row)).map { String(decoding: $0, as: UTF8.self) } ?? "{}" }
        }
        var lines = ["property        cursor      waiting  oldest waiting  dead letters  calls sent  deals sent  skipped"]
        for row in rows {
            let skipped = row.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append([
                row.property.padding(16), (row.cursor.map(String.init) ?? "not yet").padding(12), String(row.waiting).padding(9),
                (row.oldest_waiting_seconds.map { DurationText.format(.seconds($0)) } ?? "-").padding(16),
                String(row.dead_letters).padding(14), String(row.calls_sent).padding(12), String(row.deals_sent).padding(12),
                skipped.isEmpty ? "-" : skipped,
            ].joined())
        }
        if rows.contains(where: { $0.dead_letters > 0 }) {
            lines.append("a dead letter's events go again with the lead's next change")
        }
        return lines
    }

    struct PropertyStatus: Encodable {
        var property: String
        var measurement_id: String
        var cursor: Int64?
        var waiting: Int
        var oldest_waiting_seconds: Int?
        var dead_letters: Int
        var calls_sent: Int
        var deals_sent: Int
        var skipped: [String: Int]
    }
}
