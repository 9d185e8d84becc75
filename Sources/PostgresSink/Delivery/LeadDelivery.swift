import CallTrackCore
import Logging
import ServiceLifecycle
import Store
import Synchronization

/// Every lead change is committed to SQLite with an outbox entry that says which lead changed
/// (`LeadLedger.record`), then delivered to PostgreSQL by `run()`, in outbox order, in multi-row
/// batches when there is a backlog: the delivery reads each lead (or merge) as it stands when it
/// delivers, so a lead changed twice while PostgreSQL was away travels once, as it stands now.
///
/// ```
/// lead + entry ──> SQLite (durable) ──> run(): read entries, their leads ─> upsert + NOTIFY ─> mark delivered
///                                                        │ PostgreSQL down/refusing: wait, retry (backoff)
///                                                        └ a value refused: bisect, set the bad row aside
/// ```
/// PostgreSQL down, slow or refusing never loses a lead and never blocks the daemon; a row
/// PostgreSQL rejects is set aside with its error (the rest of its batch is delivered).
public final class LeadDelivery: Service, Sendable {
    public let ledger: LeadLedger
    private let connection: PostgresConnection
    private let writer: LeadWriter
    private let mergeWriter: MergeWriter
    private let clock: any WallClock
    private let configuration: LeadDeliveryConfiguration
    private let logger: Logger
    private let metrics = LeadDeliveryMetrics()
    private let state = Mutex(State())

    private struct State {
        var progress = LeadDeliveryProgress()
        var waiters: [(through: Int64, continuation: CheckedContinuation<Void, Never>)] = []
        var lastStats: ContinuousClock.Instant?
        var lastPrune: ContinuousClock.Instant?
    }

    public init(
        ledger: LeadLedger, connection: PostgresConnection, schema: PostgresSchema,
        clock: (any WallClock)? = nil, configuration: LeadDeliveryConfiguration = LeadDeliveryConfiguration(),
        logger: Logger
    ) {
        self.ledger = ledger
        self.connection = connection
        self.writer = LeadWriter(schema: schema)
        self.mergeWriter = MergeWriter(schema: schema)
        self.clock = clock ?? SystemClock()
        self.configuration = configuration
        self.logger = logger
    }

    /// The outbox this delivery drains.
    public var outbox: Outbox { ledger.outbox }

    public var progress: LeadDeliveryProgress { state.withLock { $0.progress } }

    /// Returns once every entry up to `id` is delivered or set aside (or the task is cancelled).
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

    /// Migrates the schema, then delivers until cancelled or the service group shuts down
    /// (the batch in flight is finished first; what is left waits in the outbox for the next start).
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await self.migrate()
            await self.deliverLoop()
        }
    }

    // MARK: - The loop

    private func migrate() async {
        let schema = writer.schema
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            do throws(PostgresError) {
                let applied = try await connection.withSession { session throws(PostgresError) in try schema.migrate(session) }
                if !applied.isEmpty {
                    logger.info("postgres schema migrated", metadata: ["postgres.schema": "\(schema.name)", "postgres.versions": "\(applied)"])
                }
                return
            } catch {
                guard await pause(error, backoff: &backoff) else { return }
            }
        }
    }

    private func deliverLoop() async {
        var cursor = state.withLock { $0.progress.doneThrough }
        var next = await load(after: cursor)
        // Marking a batch delivered (an SQLite commit) overlaps with writing the next one to PostgreSQL.
        var marking: Task<Void, Never>?
        while !Task.isCancelled {
            guard let batch = next, let last = batch.items.last else {
                await marking?.value
                // Drained: nothing waits. The failed count is refreshed when due, not after every lead
                // (it ran after each one and sat in front of the next).
                metrics.depth.record(0)
                metrics.oldestAge.record(0)
                await refreshStats(force: false)
                await prune()
                if next != nil { await outbox.waitForEntries(after: cursor) } // empty: wait for a new lead
                next = await load(after: cursor)
                continue
            }
            // Read and decode the next batch while PostgreSQL writes this one.
            async let following = load(after: last.entry.id)
            let started = ContinuousClock.now
            guard let failures = await deliver(batch) else { break } // cancelled while PostgreSQL was away
            metrics.batchSeconds.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            let previous = marking, from = cursor
            marking = Task { [self] in
                await previous?.value
                await record(batch.items, failures: failures, after: from)
            }
            cursor = last.entry.id
            next = await following
            await refreshStats(force: false)
        }
        await marking?.value // what PostgreSQL has is marked before the daemon stops
    }

    /// An outbox entry with what it says changed: a lead (key: its call id) or a visitor merge (key `merge:…`);
    /// neither when it is gone or unreadable (`problem` says why).
    private struct Item {
        var entry: OutboxEntry
        var lead: Lead?
        var merge: VisitorMerge?
        var problem: String?
    }

    /// A batch read from the outbox with its leads and merges, and (for the whole batch) turned into parameters.
    private struct Batch {
        var items: [Item]
        var rows: LeadRows
    }

    /// The next batch, read and prepared; nil when the store could not be read (logged; retried after a pause).
    private func load(after cursor: Int64) async -> Batch? {
        do throws(StoreUnavailable) {
            let entries = try await outbox.pending(after: cursor, limit: configuration.batchSize)
            let prefix = VisitorMerge.outboxKeyPrefix
            let mergeKeys = entries.filter { $0.key.hasPrefix(prefix) }.map { String($0.key.dropFirst(prefix.count)) }
            let leads = try await ledger.leads(entries.filter { !$0.key.hasPrefix(prefix) }.map(\.key))
            let merges = try await ledger.merges(of: mergeKeys)
            let items = entries.map { entry in
                if entry.key.hasPrefix(prefix) {
                    let merge = merges[String(entry.key.dropFirst(prefix.count))]
                    return Item(entry: entry, merge: merge, problem: merge == nil ? "no such visitor merge is recorded" : nil)
                }
                guard let stored = leads[entry.key] else { return Item(entry: entry, problem: "no lead of this call is stored") }
                return Item(entry: entry, lead: stored.lead, problem: stored.lead == nil ? "the stored lead is not readable" : nil)
            }
            return Batch(items: items, rows: LeadRows(items.compactMap(\.lead)))
        } catch {
            logger.info("outbox read failed", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: configuration.maxBackoff)
            return nil
        }
    }

    /// Delivers a batch, waiting out PostgreSQL outages; returns the entries set aside with their
    /// errors, or nil if cancelled before the batch went through.
    private func deliver(_ batch: Batch) async -> [(id: Int64, error: String)]? {
        var failures: [(id: Int64, error: String)] = []
        var good: [Item] = []
        for item in batch.items {
            if let problem = item.problem {
                failures.append((item.entry.id, problem))
            } else {
                good.append(item)
            }
        }
        guard let rejected = await upsert(good[...], prepared: batch.rows) else { return nil }
        return (failures + rejected).sorted { $0.id < $1.id }
    }

    /// Upserts `items`; on a refused value, splits the batch in halves until the bad rows are alone.
    private func upsert(_ items: ArraySlice<Item>, prepared: LeadRows? = nil) async -> [(id: Int64, error: String)]? {
        guard !items.isEmpty else { return [] }
        let rows = prepared ?? LeadRows(items.compactMap(\.lead))
        let merges = items.compactMap(\.merge)
        let (writer, mergeWriter) = (self.writer, self.mergeWriter)
        var backoff = configuration.initialBackoff
        var retriedAtOnce = false
        while !Task.isCancelled {
            do throws(PostgresError) {
                try await connection.withSession { session throws(PostgresError) in
                    try writer.upsert(rows, in: session)
                    try mergeWriter.write(merges, in: session)  // a lead keeps its visitor id: the order between them does not matter
                }
                resumed()
                return []
            } catch where error.kind == .badData {
                resumed()
                if items.count == 1 { return [(items.first!.entry.id, error.description)] }
                let middle = items.startIndex + items.count / 2
                guard let left = await upsert(items[..<middle]), let right = await upsert(items[middle...]) else { return nil }
                return left + right
            } catch where error.kind == .connectionLost && !retriedAtOnce {
                retriedAtOnce = true // a connection that died while idle: the upsert is idempotent, try a new one now
            } catch {
                guard await pause(error, backoff: &backoff) else { return nil }
            }
        }
        return nil
    }

    // MARK: - Health, progress, housekeeping

    /// Logs the first failure of a kind, waits, and doubles the wait; false when cancelled.
    private func pause(_ error: PostgresError, backoff: inout Duration) async -> Bool {
        metrics.retries.increment()
        await refreshStats(force: false) // depth and age keep growing during an outage: show it
        let health = LeadDeliveryHealth.waiting(kind: error.kind, reason: error.description)
        let changed = state.withLock { state -> Bool in
            if case .waiting(let kind, _) = state.progress.health, kind == error.kind { return false }
            state.progress.health = health
            return true
        }
        if changed {
            metrics.postgresUp.record(0)
            logger.info("lead delivery to postgres paused; leads wait in the outbox", metadata: [
                "error": "\(error)", "postgres.error.kind": "\(error.kind)", "retry.in": "\(backoff)",
            ])
        } else {
            logger.debug("lead delivery retry failed", metadata: ["error": "\(error)", "retry.in": "\(backoff)"])
        }
        do { try await Task.sleep(for: backoff) } catch { return false }
        backoff = min(backoff * 2, configuration.maxBackoff)
        return !Task.isCancelled
    }

    private func resumed() {
        let was = state.withLock { state -> LeadDeliveryHealth in
            defer { state.progress.health = .delivering }
            return state.progress.health
        }
        guard was != .delivering else { return }
        metrics.postgresUp.record(1)
        if case .waiting = was {
            logger.info("lead delivery to postgres resumed")
        }
    }

    private func record(_ batch: [Item], failures: [(id: Int64, error: String)], after cursor: Int64) async {
        guard let last = batch.last?.entry.id else { return }
        let now = clock.now()
        do throws(StoreUnavailable) {
            for failure in failures {
                logger.info("lead set aside: postgres refused it", metadata: ["outbox.id": "\(failure.id)", "error": "\(failure.error)"])
                try await outbox.markFailed(failure.id, error: failure.error, at: now)
            }
            try await outbox.markDelivered(after: cursor, through: last, at: now)
        } catch {
            // PostgreSQL has the rows; if marking fails they are delivered again later, which the
            // revision guard makes harmless.
            logger.info("outbox update failed", metadata: ["error": "\(error)"])
        }
        let failed = Set(failures.map(\.id))
        let merges = batch.count { $0.merge != nil && !failed.contains($0.entry.id) }
        metrics.delivered.increment(by: batch.count - failures.count - merges)
        metrics.mergesDelivered.increment(by: merges)
        metrics.setAside.increment(by: failures.count)
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.progress.doneThrough = last
            state.progress.delivered += batch.count - failures.count
            state.progress.failed += failures.count
            let (done, waiting) = (state.waiters.filter { $0.through <= last }, state.waiters.filter { $0.through > last })
            state.waiters = waiting
            return done.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    private func refreshStats(force: Bool) async {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if !force, let last = state.lastStats, now - last < configuration.statsInterval { return false }
            state.lastStats = now
            return true
        }
        guard due, let stats = try? await outbox.stats() else { return }
        metrics.depth.record(stats.pending)
        metrics.failedWaiting.record(stats.failed)
        let age = stats.oldestPendingAt.map { (clock.now() - $0).secondsDouble } ?? 0
        metrics.oldestAge.record(max(0, age))
    }

    private func prune() async {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if let last = state.lastPrune, now - last < .seconds(60) { return false }
            state.lastPrune = now
            return true
        }
        guard due else { return }
        let cutoff = clock.now() - configuration.keepDelivered
        if let pruned = try? await outbox.prune(deliveredBefore: cutoff), pruned > 0 {
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
