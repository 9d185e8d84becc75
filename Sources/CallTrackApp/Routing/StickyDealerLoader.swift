import CallTrackCore
import Logging
import ServiceLifecycle
import Store

/// Reads every caller's sticky dealer into memory at start (`SQLiteStore.loadStickyDealers`, on the store's
/// reader pool), so FastAGI routes returning callers without a read. Until it is done, or while it is not (a
/// failed load, or a refresh after a write that could not be read, which turns memory off), each request reads the
/// store as it would without it: the answers are the same, only slower. Memory that went off is loaded again,
/// checked every `checkEvery`, with a warning each time.
struct StickyDealerLoader: Service {
    let store: SQLiteStore
    let clock: any WallClock
    var checkEvery: Duration = .seconds(30)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var loadedOnce = false
            while !Task.isCancelled {
                if !store.stickyDealers.isReady {
                    if loadedOnce {
                        logger.warning("sticky dealers in memory went off after a refresh failed: FastAGI reads the store for each caller; loading them again")
                    }
                    await load()
                    loadedOnce = true
                }
                try? await clock.sleep(for: checkEvery)
            }
        }
    }

    private func load() async {
        let started = ContinuousClock.now
        do {
            try await store.loadStickyDealers()
            logger.info("sticky dealers loaded", metadata: [
                "callers": "\(store.stickyDealers.count)", "seconds": "\((ContinuousClock.now - started).components.seconds)",
            ])
        } catch {
            logger.warning("sticky dealers not loaded: FastAGI reads the store for each caller until they are", metadata: ["error": "\(error)"])
        }
    }
}
