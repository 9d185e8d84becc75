import CallTrackCore
import Logging
import ServiceLifecycle
import Store

/// Once a day, drops dealer statistics (hour buckets and unanswered calls) older than `dealer_stats.hours_kept`.
struct DealerStatsPruner: Service {
    let statistics: any DealerHistory
    let clock: any WallClock
    let kept: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await prune()
                try? await Task.sleep(for: .seconds(86_400))
            }
        }
    }

    func prune() async {
        do {
            let gone = try await statistics.prune(now: clock.now(), kept: kept)
            if gone > 0 { logger.info("dealer statistics: dropped old hours", metadata: ["rows": "\(gone)"]) }
        } catch {
            logger.warning("dealer statistics not pruned; will try again tomorrow", metadata: ["error": "\(error.description)"])
        }
    }
}
