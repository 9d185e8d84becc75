import ServiceLifecycle
import CallTrackCore

/// Runs the store's group-commit writer; on shutdown it commits what is queued, then stops.
/// Listed first in the service group, so it stops last: the HTTP server has finished its requests by then.
struct StoreService: Service {
    let store: any StateStore

    func run() async throws {
        await cancelWhenGracefulShutdown { await store.run() }
    }
}
