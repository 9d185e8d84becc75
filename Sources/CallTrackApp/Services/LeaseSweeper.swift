import CallTrackCore
import Metrics
import ServiceLifecycle

/// Ends leases whose time is up (freeing memory and numbers) and refreshes the pool gauges.
struct LeaseSweeper: Service {
    let book: LeaseBook
    let clock: any WallClock
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func sweep() async {
        for pool in book.snapshot(at: clock.now()) {
            Gauge(label: "calltrackd_pool_numbers", dimensions: [("pool", pool.poolID), ("state", "total")]).record(pool.size)
            Gauge(label: "calltrackd_pool_numbers", dimensions: [("pool", pool.poolID), ("state", "live")]).record(pool.live)
            Gauge(label: "calltrackd_pool_numbers", dimensions: [("pool", pool.poolID), ("state", "free")]).record(pool.free)
        }
    }
}
