import CallTrackCore
import Foundation
import Logging
import Store

/// `calltrackd simulate --from-stats`: the pool to replay (from the config) and its measured traffic over the
/// last days (from the statistics the daemon stored in its state database), or a problem that says what to do.
public enum StatsReplay {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// The pool named by `site`/`pool` (either may be omitted while it leaves one pool) and its traffic in the
    /// `days` whole days before the hour `now` is in (that hour is not finished).
    public static func load(config: AppConfig, site: String?, pool: String?, days: Int, now: Timestamp) async throws -> (pool: Pool, measured: MeasuredTraffic) {
        let chosen = try choose(config: config, site: site, pool: pool)
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            throw Problem(description: "no state database at \(config.databasePath): --from-stats replays what the daemon measured; run it (calltrackd serve) while it serves visits, or simulate a synthetic profile without --from-stats")
        }
        let store = PoolStatisticsStore(store: try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.simulate")))
        let hour: Int64 = 3_600_000_000
        let to = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - ((now.microsecondsSinceEpoch % hour) + hour) % hour)
        let from = to - .seconds(Int64(max(1, days)) * 86_400)
        let buckets = try await store.buckets(pools: [chosen.id], from: from, to: to)
        guard let measured = MeasuredTraffic(poolID: chosen.id, buckets: buckets, from: from, to: to) else {
            throw Problem(description: "pool \(chosen.id) has no visits recorded from \(from.iso8601) to \(to.iso8601) in \(config.databasePath): the daemon stores each pool's statistics once a minute while it serves visits; let it run a day, try a longer --days, or simulate a synthetic profile without --from-stats")
        }
        return (chosen, measured)
    }

    static func choose(config: AppConfig, site: String?, pool: String?) throws -> Pool {
        let sites = config.sites.filter { site == nil || $0.id == site }
        if let site, sites.isEmpty {
            throw Problem(description: "--site: no site \(site) in the config (sites: \(config.sites.map(\.id).joined(separator: ", ")))")
        }
        let pools = sites.flatMap(\.pools)
        if let pool {
            guard let found = pools.first(where: { $0.id == pool }) else {
                throw Problem(description: "--pool: no pool \(pool)\(site.map { " on site \($0)" } ?? "") in the config (pools: \(pools.map(\.id).joined(separator: ", ")))")
            }
            return found
        }
        guard pools.count == 1, let only = pools.first else {
            throw Problem(description: pools.isEmpty
                ? "no pool configured\(site.map { " on site \($0)" } ?? ""): nothing was measured to replay"
                : "--pool: \(pools.count) pools are configured (\(pools.map(\.id).joined(separator: ", "))): name the one to replay")
        }
        return only
    }
}
