import CallTrackCore
import Dispatch
import Foundation
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
/// The writer is a dedicated thread doing synchronous transactions: on a busy machine every hop between
/// an async task and GRDB's queue can cost a scheduler slice, and the writer is the one serial step of
/// every allocation.
final class GroupCommitter: Sendable {
    private let database: DatabasePool
    private let doorbell: OutboxDoorbell
    private let logger: Logger
    private let queue = Mutex(Queue())
    /// Signalled exactly once each time the writer is woken from `sleeping`.
    private let wake = DispatchSemaphore(value: 0)
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
        /// The writer thread waits on `wake`.
        var sleeping = false
        var stopped = false
    }

    /// Most writes per transaction: bounds the latency of the first writer in a burst.
    static let maxBatch = 512

    init(database: DatabasePool, doorbell: OutboxDoorbell, logger: Logger) {
        self.database = database
        self.doorbell = doorbell
        self.logger = logger
    }

    func commit(_ writes: [StateWrite]) async throws(StoreUnavailable) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (wakeWriter, stopped) = queue.withLock { queue -> (Bool, Bool) in
                    if queue.stopped { return (false, true) }
                    queue.waiting.append(Waiter(writes: writes, continuation: continuation))
                    defer { queue.sleeping = false }
                    return (queue.sleeping, false)
                }
                if stopped { continuation.resume(throwing: StoreUnavailable("the daemon is shutting down")) }
                if wakeWriter { wake.signal() }
            }
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            throw StoreUnavailable("state write failed: \(SQLiteStore.explain(error))")
        }
    }

    /// Runs the writer thread until cancelled; what was queued by then is committed before it returns.
    func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    writerLoop()
                    finished.resume()
                }
                thread.name = "calltrackd-store-writer"
                thread.start()
            }
        } onCancel: {
            stop()
        }
    }

    private func writerLoop() {
        while true {
            let batch: [Waiter]? = queue.withLock { queue in
                if !queue.waiting.isEmpty {
                    let take = min(queue.waiting.count, Self.maxBatch)
                    defer { queue.waiting.removeFirst(take) }
                    return Array(queue.waiting.prefix(take))
                }
                if queue.stopped { return [] }
                queue.sleeping = true
                return nil
            }
            guard let batch else {
                wake.wait()
                continue
            }
            if batch.isEmpty { return }
            let writes = batch.flatMap(\.writes)
            do {
                let outboxID = try database.write { db in try StateWriter.apply(writes, in: db) }
                if let outboxID { doorbell.ring(newest: outboxID) }  // a merge to deliver
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

    /// Refuses new writes; queued ones are still committed by the writer before it returns.
    private func stop() {
        let wakeWriter = queue.withLock { queue -> Bool in
            queue.stopped = true
            defer { queue.sleeping = false }
            return queue.sleeping
        }
        if wakeWriter { wake.signal() }
    }
}
