import CallTrackCore
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers the lead outbox to one destination, at the destination's own pace: one loop (one task) per
/// destination, each with its own cursor in the state database, so a slow or failing destination never delays
/// another, and each destination receives every change in outbox order.
///
/// ```
/// lead + entry ──> SQLite log ──> run(): read entries after the cursor, their leads ─> destination.deliver ─> advance the cursor
///                                   (the next batch is read and encoded       │ down/refusing: wait, retry (backoff)
///                                    while this one is delivered)              └ entries rejected: set aside for this destination
/// ```
/// The changes are read as they stand when delivered: a lead changed twice while the destination was away
/// travels once. An entry whose lead or merge cannot be read is set aside with why. A destination down,
/// slow or refusing never loses a change and never blocks the daemon.
public final class DestinationDelivery<Destination: LeadDestination>: Service, Sendable {
    public let destination: Destination
    public let ledger: any LeadStore & IdentityBook & PersonalDataStore
    private let clock: any WallClock
    private let configuration: DeliveryConfiguration
    private let batchSize: Int
    private let logger: Logger
    private let metrics: DeliveryMetrics
    private let state = Mutex(State())

    private struct State {
        var progress = DeliveryProgress()
        var waiters: [(through: Int64, continuation: CheckedContinuation<Void, Never>)] = []
        var lastStats: ContinuousClock.Instant?
        var lastPrune: ContinuousClock.Instant?
        /// Replays asked for while running, taken by the loop between batches (`replay(since:)`).
        var replays: [(since: Timestamp, reply: CheckedContinuation<Result<Int?, StoreUnavailable>, Never>)] = []
        /// The loop waiting for new entries, woken when a replay is asked for.
        var idle: CheckedContinuation<Void, Never>?
    }

    public init(
        destination: Destination, ledger: any LeadStore & IdentityBook & PersonalDataStore, clock: (any WallClock)? = nil,
        configuration: DeliveryConfiguration = DeliveryConfiguration(), logger: Logger
    ) {
        self.destination = destination
        self.ledger = ledger
        self.clock = clock ?? SystemClock()
        self.configuration = configuration
        self.batchSize = max(1, min(configuration.batchSize, destination.maxBatchSize))
        var logger = logger
        logger[metadataKey: "destination"] = "\(destination.name)"
        self.logger = logger
        self.metrics = DeliveryMetrics(destination: destination.name, topic: ledger.deliveryLog.topic)
    }

    public var name: String { destination.name }

    /// The outbox this delivery reads.
    public var outbox: any DeliveryLog { ledger.deliveryLog }

    public var progress: DeliveryProgress { state.withLock { $0.progress } }

    /// Returns once every entry up to `id` is delivered to this destination or set aside (or the task is cancelled).
    public func waitUntilDone(through id: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.progress.doneThrough >= id { return true }
                state.waiters.append((id, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Registers the destination's cursor, prepares the destination, then delivers until cancelled or the service
    /// group shuts down (the batch in flight is finished first; what is left waits in the outbox for the next start).
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            guard let cursor = await self.registerRetrying() else { return }
            await self.prepare()
            await self.deliverLoop(from: cursor)
        }
    }

    /// Registers the destination's cursor now, the first time at `configuration.start`: changes committed from here
    /// on reach the destination whatever order the services start in. `run()` does it too (once is enough).
    public func register() async throws(StoreUnavailable) {
        finish(through: try await outbox.register(name, from: configuration.start, at: clock.now()))
    }

    /// Sends this destination the changes enqueued at or after `since` again, and the ones it set aside among them,
    /// while the daemon runs: the loop moves its cursor back between two batches (never during one, so what it
    /// records of the batch in flight cannot undo the move). Returns how many entries wait for it then; nil for a
    /// destination never registered. Returns once the loop took it: at once when idle, after the batch in flight
    /// otherwise, later while the destination is down (its batch is retried first).
    public func replay(since: Timestamp) async throws(StoreUnavailable) -> Int? {
        let result = await withCheckedContinuation { (reply: CheckedContinuation<Result<Int?, StoreUnavailable>, Never>) in
            let idle = state.withLock { state in
                state.replays.append((since, reply))
                defer { state.idle = nil }
                return state.idle
            }
            idle?.resume()
        }
        return try result.get()
    }

    // MARK: - The loop

    private func registerRetrying() async -> Int64? {
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            do throws(StoreUnavailable) {
                let cursor = try await outbox.register(name, from: configuration.start, at: clock.now())
                finish(through: cursor)
                return cursor
            } catch {
                logger.info("lead delivery cannot read its cursor; retrying", metadata: ["error": "\(error)", "retry.in": "\(backoff)"])
                do { try await Task.sleep(for: backoff) } catch { return nil }
                backoff = min(backoff * 2, configuration.maxBackoff)
            }
        }
        return nil
    }

    private func prepare() async {
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            do throws(DeliveryFailure) {
                try await destination.prepare()
                if case .waiting = progress.health { resumed() }
                return
            } catch {
                guard await pause(error, backoff: &backoff) else { return }
            }
        }
    }

    private func deliverLoop(from start: Int64) async {
        var cursor = start
        var next = await load(after: cursor)
        // Advancing the cursor (an SQLite commit) overlaps with delivering the next batch.
        var marking: Task<Void, Never>?
        while !Task.isCancelled {
            if let moved = await takeReplays(after: marking) {
                marking = nil
                cursor = moved
                next = await load(after: cursor)
                continue
            }
            guard let batch = next, let last = batch.lastID else {
                await marking?.value
                // Drained: nothing waits. The failed count is refreshed when due, not after every lead.
                metrics.depth.record(0)
                metrics.oldestAge.record(0)
                await refreshStats()
                await prune()
                if next != nil { await waitForEntriesOrReplay(after: cursor) } // empty: wait for a new entry
                next = await load(after: cursor)
                continue
            }
            // Read and encode the next batch while the destination takes this one.
            async let following = load(after: last)
            let started = ContinuousClock.now
            guard let failures = await deliver(batch) else { break } // cancelled while the destination was away
            metrics.batchSeconds.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            let previous = marking
            marking = Task { [self] in
                await previous?.value
                await record(batch, failures: failures, through: last)
            }
            cursor = last
            next = await following
            await refreshStats()
        }
        await marking?.value // what the destination has is recorded before the daemon stops
    }

    /// Moves the cursor back for the replays asked for (after what is being recorded of the last batch); returns the
    /// new cursor, nil when none was asked for or the store refused (each caller gets its answer).
    private func takeReplays(after marking: Task<Void, Never>?) async -> Int64? {
        let replays = state.withLock { state in
            defer { state.replays = [] }
            return state.replays
        }
        guard !replays.isEmpty else { return nil }
        await marking?.value
        var moved: Int64?
        for replay in replays {
            do throws(StoreUnavailable) {
                let waiting = try await outbox.rewind(name, since: replay.since, at: clock.now())
                if let cursor = try await outbox.cursors()[name] { moved = cursor }
                logger.notice("replaying changes", metadata: ["since": "\(replay.since.iso8601)", "outbox.pending": "\(waiting ?? 0)"])
                replay.reply.resume(returning: .success(waiting))
            } catch {
                replay.reply.resume(returning: .failure(error))
            }
        }
        return moved
    }

    /// Returns once an entry after `cursor` may exist, or a replay is asked for.
    private func waitForEntriesOrReplay(after cursor: Int64) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.outbox.waitForEntries(after: cursor) }
            group.addTask { await self.waitForReplay() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForReplay() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if !state.replays.isEmpty || Task.isCancelled { return true }
                    state.idle = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let idle = state.withLock { state in
                defer { state.idle = nil }
                return state.idle
            }
            idle?.resume()
        }
    }

    /// A batch read from the outbox: the changes it names, encoded for the destination, and the entries that name
    /// nothing readable (with why).
    private struct Loaded: Sendable {
        var lastID: Int64?
        var changes: [LeadChange]
        var unreadable: [(id: Int64, error: String)]
        var encoded: Destination.Batch
    }

    /// The next batch, read and encoded; nil when the store could not be read (logged; retried after a pause).
    private func load(after cursor: Int64) async -> Loaded? {
        do throws(StoreUnavailable) {
            let entries = try await outbox.entries(after: cursor, limit: batchSize)
            let prefix = VisitorMerge.outboxKeyPrefix
            let erasurePrefix = ErasureRecord.outboxKeyPrefix
            let mergeKeys = entries.filter { $0.key.hasPrefix(prefix) }.map { String($0.key.dropFirst(prefix.count)) }
            let erasureIDs = entries.compactMap { $0.key.hasPrefix(erasurePrefix) ? Int64($0.key.dropFirst(erasurePrefix.count)) : nil }
            let leads = try await ledger.leads(entries.filter { !$0.key.hasPrefix(prefix) && !$0.key.hasPrefix(erasurePrefix) }.map(\.key))
            let merges = mergeKeys.isEmpty ? [:] : try await ledger.merges(of: mergeKeys)
            let erasures = erasureIDs.isEmpty ? [:] : try await ledger.erasures(ids: erasureIDs)
            var changes: [LeadChange] = []
            var unreadable: [(id: Int64, error: String)] = []
            changes.reserveCapacity(entries.count)
            for entry in entries {
                if entry.key.hasPrefix(erasurePrefix) {
                    if let erasure = Int64(entry.key.dropFirst(erasurePrefix.count)).flatMap({ erasures[$0] }) {
                        changes.append(.erasure(erasure, entry: entry))
                    } else {
                        unreadable.append((entry.id, "no such erasure is recorded"))
                    }
                } else if entry.key.hasPrefix(prefix) {
                    if let merge = merges[String(entry.key.dropFirst(prefix.count))] {
                        changes.append(.merge(merge, entry: entry))
                    } else {
                        unreadable.append((entry.id, "no such visitor merge is recorded"))
                    }
                } else if let stored = leads[entry.key] {
                    if let lead = stored.lead {
                        changes.append(.lead(lead, entry: entry))
                    } else {
                        unreadable.append((entry.id, "the stored lead is not readable"))
                    }
                } else {
                    unreadable.append((entry.id, "no lead of this call is stored"))
                }
            }
            return Loaded(lastID: entries.last?.id, changes: changes, unreadable: unreadable, encoded: destination.encode(changes))
        } catch {
            logger.info("outbox read failed", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: configuration.maxBackoff)
            return nil
        }
    }

    /// Delivers a batch, waiting out the destination's outages; returns the entries set aside with their errors,
    /// or nil if cancelled before the batch went through.
    private func deliver(_ batch: Loaded) async -> [(id: Int64, error: String)]? {
        guard !batch.changes.isEmpty else { return batch.unreadable }
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            switch await destination.deliver(batch.encoded) {
            case .delivered:
                resumed()
                return batch.unreadable
            case .rejected(let rejected):
                resumed()
                return (batch.unreadable + rejected).sorted { $0.id < $1.id }
            case .retryLater(let failure):
                guard await pause(failure, backoff: &backoff) else { return nil }
            }
        }
        return nil
    }

    // MARK: - Health, progress, housekeeping

    /// Logs the first failure of a kind, waits, and doubles the wait; false when cancelled.
    private func pause(_ failure: DeliveryFailure, backoff: inout Duration) async -> Bool {
        metrics.retries.increment()
        await refreshStats() // depth and age keep growing during an outage: show it
        let changed = state.withLock { state -> Bool in
            if case .waiting(let kind, _) = state.progress.health, kind == failure.kind { return false }
            state.progress.health = .waiting(kind: failure.kind, reason: failure.description)
            return true
        }
        if changed {
            metrics.up.record(0)
            logger.info("lead delivery paused; leads wait in the outbox", metadata: [
                "error": "\(failure)", "destination.error.kind": "\(failure.kind)", "retry.in": "\(backoff)",
            ])
        } else {
            logger.debug("lead delivery retry failed", metadata: ["error": "\(failure)", "retry.in": "\(backoff)"])
        }
        do { try await Task.sleep(for: backoff) } catch { return false }
        backoff = min(backoff * 2, configuration.maxBackoff)
        return !Task.isCancelled
    }

    private func resumed() {
        let was = state.withLock { state -> DeliveryHealth in
            defer { state.progress.health = .delivering }
            return state.progress.health
        }
        guard was != .delivering else { return }
        metrics.up.record(1)
        if case .waiting = was {
            logger.info("lead delivery resumed")
        }
    }

    private func record(_ batch: Loaded, failures: [(id: Int64, error: String)], through last: Int64) async {
        for failure in failures {
            logger.info("lead set aside: the destination refused it", metadata: ["outbox.id": "\(failure.id)", "error": "\(failure.error)"])
        }
        do throws(StoreUnavailable) {
            try await outbox.advance(name, through: last, setAside: failures, at: clock.now())
        } catch {
            // The destination has the changes; if the cursor cannot move they are delivered again after a
            // restart, which a destination must take (deliveries are idempotent).
            logger.info("outbox cursor update failed", metadata: ["error": "\(error)"])
        }
        let failed = Set(failures.map(\.id))
        let arrived = batch.changes.filter { !failed.contains($0.entry.id) }
        let merges = arrived.count { $0.merge != nil }
        let erasures = arrived.count { $0.erasure != nil }
        metrics.delivered.increment(by: arrived.count - merges - erasures)
        metrics.mergesDelivered.increment(by: merges)
        metrics.setAside.increment(by: failures.count)
        state.withLock { state in
            state.progress.delivered += arrived.count
            state.progress.failed += failures.count
        }
        finish(through: last)
    }

    /// Every entry up to `id` is done: wakes who waits for it.
    private func finish(through id: Int64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.progress.doneThrough = max(state.progress.doneThrough, id)
            let done = state.progress.doneThrough
            let (ready, waiting) = (state.waiters.filter { $0.through <= done }, state.waiters.filter { $0.through > done })
            state.waiters = waiting
            return ready.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    private func refreshStats() async {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if let last = state.lastStats, now - last < configuration.statsInterval { return false }
            state.lastStats = now
            return true
        }
        guard due, let stats = try? await outbox.stats(for: name) else { return }
        metrics.depth.record(stats.pending)
        metrics.failedWaiting.record(stats.failed)
        let age = stats.oldestPendingAt.map { (clock.now() - $0).secondsDouble } ?? 0
        metrics.oldestAge.record(max(0, age))
    }

    /// Every minute at most, by each destination: the log up to the slowest destination, older than the keep period.
    private func prune() async {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if let last = state.lastPrune, now - last < .seconds(60) { return false }
            state.lastPrune = now
            return true
        }
        guard due else { return }
        let cutoff = clock.now() - configuration.keepDelivered
        if let pruned = try? await outbox.prune(before: cutoff), pruned > 0 {
            logger.debug("outbox pruned", metadata: ["outbox.pruned": "\(pruned)"])
        }
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
