import CallTrackCore
import Logging
import ServiceLifecycle

/// Every hour, gives the dealers whose weight is configured `auto` the weight their answer rate over the last 30
/// days suggests (`DealerStats.suggestedWeight`). Runs only when some dealer is `auto`.
struct DealerWeightTuner: Service {
    let stats: DealerStatsDesk
    let routing: RoutingDesk
    let clock: any WallClock
    let logger: Logger
    static let measured: Duration = .seconds(30 * 86_400)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await tune()
                try? await Task.sleep(for: .seconds(3_600))
            }
        }
    }

    func tune() async {
        let now = clock.now()
        do {
            let measured = try await stats.dealerStats(from: now - Self.measured, to: now, at: now)
            let suggested = Dictionary(measured.compactMap { s in s.suggestedWeight.map { (s.dealer, $0) } }, uniquingKeysWith: { first, _ in first })
            for (dealer, weight) in routing.applyAutoWeights(suggested) {
                logger.notice("dealer weight set from its answer rate", metadata: ["dealer": "\(dealer)", "weight": "\(weight)"])
            }
        } catch {
            logger.warning("auto dealer weights not updated; will try again in an hour", metadata: ["error": "\(error)"])
        }
    }
}
