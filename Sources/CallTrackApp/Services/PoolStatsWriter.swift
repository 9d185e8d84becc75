import CallTrackCore
import Logging
import Metrics
import ServiceLifecycle

/// Writes each finished minute of pool statistics to the store (a store that refuses gets them again with the
/// next minute), rolls old minutes into hours once an hour, and writes what is left when the daemon stops.
/// Public for tests that fill a store the way the daemon does, on a clock of their own (`flush(at:)`).
public struct PoolStatsWriter: Service {
    let recorder: PoolStatsRecorder
    let store: any PoolHistory
    /// The configured pools: their counters are in /metrics from the start, at zero (a series that appears
    /// only with its first event hides that event from `rate()` and leaves a dashboard empty).
    let pools: [String]
    let clock: any WallClock
    let minutesKept: Duration
    let hoursKept: Duration
    let logger: Logger

    public init(
        recorder: PoolStatsRecorder, store: any PoolHistory, pools: [String], clock: any WallClock,
        minutesKept: Duration, hoursKept: Duration, logger: Logger
    ) {
        self.recorder = recorder
        self.store = store
        self.pools = pools
        self.clock = clock
        self.minutesKept = minutesKept
        self.hoursKept = hoursKept
        self.logger = logger
    }

    public func run() async throws {
        for pool in pools { Self.count(PoolMinute(poolID: pool, start: clock.now())) }
        await cancelWhenGracefulShutdown {
            var lastCompaction: Timestamp?
            while !Task.isCancelled {
                let now = clock.now()
                await flush(at: now)
                if lastCompaction.map({ now - $0 >= .seconds(3_600) }) ?? true {
                    lastCompaction = now
                    do {
                        try await store.compact(now: now, minutesKept: minutesKept, hoursKept: hoursKept)
                    } catch {
                        logger.warning("pool statistics not compacted; next hour again", metadata: ["error": "\(error)"])
                    }
                }
                try? await clock.sleep(for: .seconds(60 - Int64(now.microsecondsSinceEpoch / 1_000_000 % 60)) + .milliseconds(100))
            }
        }
        // The minute in progress too: a stop loses none of its counts.
        await flush(at: clock.now() + .seconds(60))
    }

    /// Prometheus counters per pool, a minute at a time (the allocation path only touches the recorder).
    static func count(_ bucket: PoolMinute) {
        let pool = [("pool", bucket.poolID)]
        Counter(label: "calltrackd_pool_sessions_total", dimensions: pool).increment(by: bucket.sessions)
        Counter(label: "calltrackd_pool_exhaustions_total", dimensions: pool).increment(by: bucket.exhaustions)
        Counter(label: "calltrackd_pool_shared_leases_total", dimensions: pool).increment(by: bucket.shared)
        for kind in MatchKind.allCases {
            Counter(label: "calltrackd_pool_calls_total", dimensions: pool + [("match", kind.rawValue)]).increment(by: bucket.calls[kind] ?? 0)
        }
    }

    /// Writes the minutes that ended by `now` (what the loop does once a minute).
    public func flush(at now: Timestamp) async {
        let finished = recorder.takeFinished(at: now)
        guard !finished.isEmpty else { return }
        for bucket in finished { Self.count(bucket) }
        do {
            try await store.add(finished)
        } catch {
            recorder.putBack(finished)
            logger.warning("pool statistics not stored; kept for the next minute", metadata: ["error": "\(error.description)"])
        }
    }
}
