import Logging
import ServiceLifecycle
import Store

/// Reads every caller's sticky dealer into memory at start (`SQLiteStore.loadStickyDealers`, on the store's
/// reader pool), so FastAGI routes returning callers without a read. Until it is done, or if it fails, each
/// request reads the store as it would without it: the answers are the same, only slower.
struct StickyDealerLoader: Service {
    let store: SQLiteStore
    let logger: Logger

    func run() async throws {
        let started = ContinuousClock.now
        do {
            try await store.loadStickyDealers()
            logger.info("sticky dealers loaded", metadata: [
                "callers": "\(store.stickyDealers.count)", "seconds": "\((ContinuousClock.now - started).components.seconds)",
            ])
        } catch {
            logger.warning("sticky dealers not loaded: FastAGI reads the store for each caller", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
    }
}
