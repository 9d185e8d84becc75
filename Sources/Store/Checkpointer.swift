import GRDB
import Logging
import Metrics
import Synchronization

/// Copies committed WAL frames into the database file, on a connection of its own, off the commit path.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages. That commit
/// copies all of them and fsyncs the database file, and every allocation in its batch waits. Under the http
/// bench, 139 of 5,000 commits took over 2 ms (84 over 4 ms), 14% of the writer's time, and they made the
/// latency tail. Here a passive checkpoint copies most frames in the background, and never blocks the writer.
///
/// The writer keeps its automatic checkpoint, which now finds little left to copy. It is still needed.
/// Under steady load, a checkpoint on another connection never catches up with a writer that goes on
/// appending, and only a writer that finds its WAL fully copied starts it again from the beginning.
/// Without it, the WAL would grow for as long as the load lasts.
final class Checkpointer: Sendable {
    private let connection: DatabaseQueue
    private let committed: @Sendable () -> Int
    private let interval: Duration
    private let logger: Logger
    private let counter = Counter(label: "calltrackd_store_checkpoints_total")
    private let failures = Counter(label: "calltrackd_store_checkpoint_failures_total")
    private let walPages = Gauge(label: "calltrackd_store_wal_pages")
    /// Each checkpoint's WAL frames and how many of them are in the database file now (for tests).
    let completed: AsyncStream<(walFrames: Int, checkpointed: Int)>
    private let report: AsyncStream<(walFrames: Int, checkpointed: Int)>.Continuation

    static let defaultInterval = Duration.milliseconds(50)

    /// `committed` counts the writer's transactions: an idle store is not checkpointed again and again.
    init(path: String, configuration: Configuration, interval: Duration = defaultInterval,
         committed: @escaping @Sendable () -> Int, logger: Logger) throws {
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.committed = committed
        self.interval = interval
        self.logger = logger
        (completed, report) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(16))
    }

    /// Checkpoints every interval in which something was committed, until cancelled; once more at the end.
    func run() async {
        var seen = -1
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = committed()
            if now != seen { seen = now; await checkpoint() }
        }
        await checkpoint()
        report.finish()
    }

    func checkpoint() async {
        do {
            let result = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            counter.increment()
            walPages.record(result.walFrameCount - result.checkpointedFrameCount)
            report.yield((result.walFrameCount, result.checkpointedFrameCount))
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return  // the writer's own checkpoint is running; a passive checkpoint does not wait for it
        } catch {
            // Not lost, only not copied yet: the frames stay in the WAL, and the next interval tries again.
            failures.increment()
            logger.warning("WAL checkpoint failed; the WAL grows until one succeeds", metadata: ["error": "\(SQLiteStore.explain(error))"])
        }
    }
}
