import CallTrackCore
import Foundation
import Logging
import Store

/// `calltrackd stats`: per pool of the config, the sentence ops read first and the figures behind it, from the
/// statistics the daemon stored (up to its last finished minute); `--json` gives the summaries.
public enum StatsListing {
    public static func lines(config: AppConfig, days: Int, now: Timestamp, json: Bool) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            return ["no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir"]
        }
        let store = PoolStatisticsStore(store: try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.stats")))
        let from = now - .seconds(Int64(max(1, days)) * 86_400)
        let pools = config.sites.flatMap(\.pools).map(\.id)
        let buckets = Dictionary(grouping: try await store.hours(pools: pools, from: from, to: now), by: \.poolID)
        let summaries = config.sites.flatMap(\.pools).map { pool in
            PoolStatsSummary(poolID: pool.id, buckets: buckets[pool.id] ?? [], from: from, to: now)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return summaries.map { String(decoding: (try? encoder.encode($0)) ?? Data(), as: UTF8.self) }
        }
        if summaries.isEmpty { return ["no pools configured"] }
        var lines = summaries.map(\.sentence) + [""]
        let header = ["pool", "size", "visits", "full", "util p50/p95/p99", "collisions", "late", "unmatched", "busiest h load", "cooldown needed"]
        let rows = summaries.map { s in
            [s.poolID, String(s.size), String(s.sessions), percent(s.exhaustionRate),
             [s.utilisation["p50"], s.utilisation["p95"], s.utilisation["p99"]].map { percent($0 ?? 0) }.joined(separator: "/"),
             percent(s.collisionRate), percent(s.lateRate), percent(s.unmatchedRate), String(format: "%.1f E", s.offeredLoad),
             s.cooldownNeededSeconds.map { DurationText.format(.seconds(Int64($0.rounded(.up)))) } ?? "-"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            lines.append(row.indices.map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  "))
        }
        return lines
    }

    static func percent(_ p: Double) -> String { String(format: "%.1f%%", p * 100) }
}
