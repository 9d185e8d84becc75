import GRDB
import Logging
import Metrics
import Synchronization

/// Copies committed WAL frames into the database file on a connection of its own, off the commit path,
/// and rarely enough that most pages are copied once for many changes.
///
/// Inside a commit, SQLite's automatic checkpoint copies 1,000 pages and fsyncs the database file while
/// every allocation of the batch waits (milliseconds), and the index pages allocations touch would be
/// written to the database file again every few commits.
///
/// Here, once an interval, passive checkpoints copy the WAL in the background and never block the writer.
/// Each pass copies what was appended during the one before, so the passes get shorter. When one is short,
/// the writer is asked to finish (`finish`): it copies the last frames between two batches (well under a
/// millisecond). Then it finds its WAL fully copied and starts it again from the beginning. Only the writer
/// can do that, and a checkpoint on another connection never catches up with a writer under steady load.
final class Checkpointer: Sendable {
    private let connection: DatabaseQueue
    private let committed: @Sendable () -> Int
    private let finish: @Sendable () -> Void
    private let interval: Duration
    private let logger: Logger
    private let counter = Counter(label: "calltrackd_store_checkpoints_total")
    private let failures = Counter(label: "calltrackd_store_checkpoint_failures_total")
    private let walPages = Gauge(label: "calltrackd_store_wal_pages")
    /// Passes that failed for another reason than a busy writer (what `failures` counts), for tests.
    let failedPasses = Atomic<Int>(0)

    /// A pass that copied fewer frames than this leaves the writer little to finish.
    static let shortPass = 512
    /// Passes per interval at most: under a load the disk cannot follow, the writer finishes a longer tail.
    static let maxPasses = 6

    /// `committed` counts the writer's transactions (an idle store is not checkpointed again and again);
    /// `finish` asks the writer to copy the last frames itself.
    init(path: String, configuration: Configuration, interval: Duration,
         committed: @escaping @Sendable () -> Int, finish: @escaping @Sendable () -> Void, logger: Logger) throws {
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.committed = committed
        self.finish = finish
        self.interval = interval
        self.logger = logger
    }

    /// Checkpoints every interval in which something was committed, until cancelled; once more at the end.
    func run() async {
        var seen = -1
        while true {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            let now = committed()
            if now != seen { seen = now; await catchUp() }
        }
        // The last pass runs in a task of its own: GRDB refuses work to a cancelled one, and shutdown
        // cancelled this one.
        _ = await Task { await catchUp() }.value
    }

    /// Passes until one is short, then the writer finishes. Returns the first pass: the WAL's frames and
    /// how many of them are in the database file now (nil if the WAL could not be read).
    @discardableResult
    func catchUp() async -> (walFrames: Int, checkpointed: Int)? {
        var first: (walFrames: Int, checkpointed: Int)?
        var copiedBefore = 0
        for _ in 0..<Self.maxPasses {
            guard let pass = await checkpoint() else { return first }
            first = first ?? pass
            let copied = pass.checkpointed - copiedBefore
            copiedBefore = pass.checkpointed
            if copied < Self.shortPass { break }
        }
        finish()
        return first
    }

    private func checkpoint() async -> (walFrames: Int, checkpointed: Int)? {
        do {
            let result = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            counter.increment()
            walPages.record(result.walFrameCount - result.checkpointedFrameCount)
            return (result.walFrameCount, result.checkpointedFrameCount)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return nil  // the writer is finishing a checkpoint; a passive one does not wait for it
        } catch {
            // Not lost, only not copied yet: the frames stay in the WAL, and the next interval tries again.
            failures.increment()
            failedPasses.add(1, ordering: .relaxed)
            logger.warning("WAL checkpoint failed; the WAL grows until one succeeds", metadata: ["error": "\(SQLiteStore.explain(error))"])
            return nil
        }
    }
}
