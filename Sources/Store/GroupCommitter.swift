import CallTrackCore
import GRDB
import Logging
import Metrics
import Synchronization

/// Group commit: writes of concurrent callers wait briefly in a queue and are committed together
/// in one transaction, one fsync for many leases. Each caller resumes only after *its* commit.
///
/// ```
/// caller A ─┐                 ┌─> A resumes
/// caller B ─┼─> [A B C] ─ BEGIN … COMMIT (1 fsync) ─┼─> B resumes
/// caller C ─┘                 └─> C resumes
/// ```
final class GroupCommitter: Sendable {
    private let database: DatabasePool
    private let logger: Logger
    private let queue = Mutex(Queue())
    /// Transactions committed so far: with many concurrent writers, far fewer than writes.
    let transactions = Atomic<Int>(0)
    private let transactionCounter = Counter(label: "calltrackd_store_transactions_total")
    private let writeCounter = Counter(label: "calltrackd_store_writes_total")

    private struct Waiter {
        var writes: [StateWrite]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue {
        var waiting: [Waiter] = []
        /// The writer loop parks here when there is nothing to write.
        var idle: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    /// Most writes per transaction: bounds the latency of the first writer in a burst.
    static let maxBatch = 512

    init(database: DatabasePool, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    func commit(_ writes: [StateWrite]) async throws(StoreUnavailable) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (wake, stopped) = queue.withLock { queue -> (CheckedContinuation<Void, Never>?, Bool) in
                    if queue.stopped { return (nil, true) }
                    queue.waiting.append(Waiter(writes: writes, continuation: continuation))
                    defer { queue.idle = nil }
                    return (queue.idle, false)
                }
                if stopped { continuation.resume(throwing: StoreUnavailable("the daemon is shutting down")) }
                wake?.resume()
            }
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            throw StoreUnavailable("state write failed: \(SQLiteStore.explain(error))")
        }
    }

    /// The writer loop; returns when the task is cancelled, after committing what was queued.
    func run() async {
        while true {
            let batch = await nextBatch()
            if batch.isEmpty { break }
            let writes = batch.flatMap(\.writes)
            do {
                try await database.write { db in try StateWriter.apply(writes, in: db) }
                transactions.add(1, ordering: .relaxed)
                transactionCounter.increment()
                writeCounter.increment(by: writes.count)
                for waiter in batch { waiter.continuation.resume() }
            } catch {
                logger.warning("state write failed", metadata: ["error": "\(SQLiteStore.explain(error))", "writes": "\(writes.count)"])
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }

    private func nextBatch() async -> [Waiter] {
        while true {
            if Task.isCancelled { stop() }
            let batch: [Waiter]? = queue.withLock { queue in
                if !queue.waiting.isEmpty {
                    let take = min(queue.waiting.count, Self.maxBatch)
                    defer { queue.waiting.removeFirst(take) }
                    return Array(queue.waiting.prefix(take))
                }
                return queue.stopped ? [] : nil
            }
            if let batch { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = queue.withLock { queue -> Bool in
                        if !queue.waiting.isEmpty || queue.stopped { return true }
                        queue.idle = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                self.stop()
            }
        }
    }

    /// Refuses new writes; queued ones are still committed by the loop before it returns.
    private func stop() {
        let wake = queue.withLock { queue -> CheckedContinuation<Void, Never>? in
            queue.stopped = true
            defer { queue.idle = nil }
            return queue.idle
        }
        wake?.resume()
    }
}
