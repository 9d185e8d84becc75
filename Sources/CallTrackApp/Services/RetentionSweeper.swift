import CallTrackCore
import Logging
import ServiceLifecycle
import Store

/// Once a day, forgets visits, leases and visitor identifiers older than the retention period (`privacy.retention`).
struct RetentionSweeper: Service {
    let store: SQLiteStore
    let clock: any WallClock
    let retention: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try? await Task.sleep(for: .seconds(86_400))
            }
        }
    }

    func sweep() async {
        do {
            let forgotten = try await store.forget(before: clock.now() - retention)
            if forgotten.sessions + forgotten.leases + forgotten.identifiers > 0 {
                logger.notice("retention: forgot old visits", metadata: [
                    "sessions": "\(forgotten.sessions)", "leases": "\(forgotten.leases)", "identifiers": "\(forgotten.identifiers)",
                ])
            }
        } catch {
            logger.warning("retention sweep failed; will try again tomorrow", metadata: ["error": "\(error.description)"])
        }
    }
}
