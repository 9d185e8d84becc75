import CallTrackCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Store

/// Tells systemd how the daemon is (`STATUS=` with live leases and the outbox's depth) and that it is alive
/// (`WATCHDOG=1`, at half of `WatchdogSec=`), and `STOPPING=1` when it begins to stop. Alive means proved, not
/// assumed: every event loop ran a task and the store's writer committed a (empty) transaction within the
/// deadline; if not, no `WATCHDOG=1` is sent and systemd restarts the daemon once the watchdog time is up.
struct SystemdWatchdog: Service {
    let notifier: SystemdNotifier
    let store: any StateStore
    let book: LeaseBook
    let outbox: any DeliveryLog
    let clock: any WallClock
    let logger: Logger
    /// STATUS is refreshed this often when systemd does not watch the process.
    var statusInterval: Duration = .seconds(10)

    func run() async throws {
        let interval = notifier.watchdogInterval.map { $0 / 2 } ?? statusInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await beat(deadline: interval)
                try? await clock.sleep(for: interval)
            }
        }
        notifier.send(["STOPPING=1", "STATUS=stopping: finishing requests and committing queued writes"])
    }

    /// One round: prove liveness, then report.
    func beat(deadline: Duration) async {
        let problem = await liveness(within: deadline)
        var fields = [await status(problem: problem)]
        if problem == nil, notifier.watchdogInterval != nil { fields.append("WATCHDOG=1") }
        if let problem { logger.warning("watchdog: not alive", metadata: ["problem": "\(problem)"]) }
        notifier.send(fields)
    }

    /// The status line `systemctl status` shows.
    func status(problem: String?) async -> String {
        if let problem { return "STATUS=unhealthy: \(problem)" }
        let live = book.snapshot(at: clock.now()).reduce(0) { $0 + $1.live }
        // The slowest destination's backlog: what a destination that is down leaves waiting.
        let depth = (try? await outbox.depth()).map { "\($0)" } ?? "unknown"
        return "STATUS=serving: \(live) live leases, outbox depth \(depth)"
    }

    /// Nil when every event loop and the store's writer answered within `deadline`; else what did not.
    func liveness(within deadline: Duration) async -> String? {
        let store = self.store
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                let loops = MultiThreadedEventLoopGroup.singleton.makeIterator().map { $0 }
                for loop in loops {
                    do { try await loop.submit {}.get() } catch { return "an event loop refused a task" }
                }
                do { try await store.apply([]) } catch { return "the store's writer failed: \(error)" }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return "the event loops or the store's writer did not answer within \(deadline)"
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
