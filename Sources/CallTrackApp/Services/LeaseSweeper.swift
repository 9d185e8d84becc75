import CallTrackCore
import Metrics
import ServiceLifecycle

/// Ends leases whose time is up (freeing memory and numbers) and refreshes the pool gauges.
struct LeaseSweeper: Service {
    let book: LeaseBook
    let clock: any WallClock
    let interval: Duration
    /// Sampled at every sweep: live leases and pool sizes for the pool statistics.
    let statistics: PoolStatsRecorder

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func sweep() async {
        let now = clock.now()
        let pools = book.snapshot(at: now)
        let cooldowns = Dictionary(book.allSites.flatMap(\.pools).map { ($0.id, $0.policy.cooldown) }, uniquingKeysWith: { first, _ in first })
        statistics.sample(pools, cooldowns: cooldowns, at: now)
        for pool in pools {
            Gauge(label: "calltrackd_pool_numbers", dimensions: [("pool", pool.poolID), ("state", "total")]).record(pool.size)
            Gauge(label: "calltrackd_pool_numbers", dimensions: [("pool", pool.poolID), ("state", "live")]).record(pool.live)
            Gauge(label: "calltrackd_pool_numbers", dimensions: [("pool", pool.poolID), ("state", "free")]).record(pool.free)
        }
    }
}
