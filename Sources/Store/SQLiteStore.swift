import CallTrackCore
import GRDB
import Logging
import Synchronization

/// The embedded state store: one SQLite file in WAL mode, migrated at open, written by group commit.
public final class SQLiteStore: StateStore {
    let database: DatabasePool
    let committer: GroupCommitter
    let checkpointer: Checkpointer
    let outboxDoorbell = OutboxDoorbell()
    let logger: Logger
    /// The visitors that may have held a lease, loaded from the database at `run` and added to by every
    /// lease write. A visitor it rules out has no previous number, so a first visit skips the read.
    let leaseHolders = Mutex(LeaseHolders())
    /// Every caller's sticky dealer in memory, kept by every write that changes one (off until `loadStickyDealers`).
    public let stickyDealers = StickyDealerIndex()

    struct LeaseHolders {
        var filter = BloomFilter()
        var loaded = false
    }

    public struct Options: Sendable {
        /// `FULL` survives power loss; `NORMAL` survives a killed process. Either way only acknowledged writes count.
        public var synchronousFull: Bool
        /// Stop growing past this size (a full disk answers 503 before the disk is really full). Nil: no cap.
        public var maxSizeBytes: Int64?
        public var busyTimeoutSeconds: Double
        /// How often committed pages are copied from the WAL into the database file.
        public var checkpointInterval: Duration
        /// Runs on every connection as it opens (the writer, each reader, the checkpointer's), after the store's
        /// own set-up: for diagnostics such as `Database.trace`, which reports each statement on the thread
        /// that runs it.
        public var prepareConnection: (@Sendable (Database) throws -> Void)?

        public init(synchronousFull: Bool = true, maxSizeBytes: Int64? = nil, busyTimeoutSeconds: Double = 2,
                    checkpointInterval: Duration = .seconds(1), prepareConnection: (@Sendable (Database) throws -> Void)? = nil) {
            self.synchronousFull = synchronousFull
            self.maxSizeBytes = maxSizeBytes
            self.busyTimeoutSeconds = busyTimeoutSeconds
            self.checkpointInterval = checkpointInterval
            self.prepareConnection = prepareConnection
        }
    }

    public init(path: String, options: Options = Options(), logger: Logger) throws(StoreUnavailable) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeoutSeconds)
        let synchronous = options.synchronousFull ? "FULL" : "NORMAL"
        let maxSize = options.maxSizeBytes
        let prepareConnection = options.prepareConnection
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // Checkpoints are the Checkpointer's. The automatic one stays only as a backstop, far above the
            // ~100 MiB a busy second of allocations appends. A WAL that was started again shrinks to 128 MiB.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 65536")
            try db.execute(sql: "PRAGMA journal_size_limit = 134217728")
            // Freed space is zeroed: a redacted or forgotten value does not linger in the file's free bytes after the
            // checkpoint. Debian's SQLite is built with this on; said here so that it holds on any SQLite.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if let maxSize {
                let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA max_page_count = \(max(16, maxSize / pageSize))")
            }
            try prepareConnection?(db)
        }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            // Again on the writer, once the pool is open: GRDB's WAL setup sets NORMAL there after
            // `prepareDatabase` ran, so a FULL store would otherwise commit without syncing its WAL.
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            let migrator = Schema.migrator()
            try Self.announceLongMigrations(migrator, database, logger: logger)
            try migrator.migrate(database)
        } catch {
            throw StoreUnavailable("cannot open the state database at \(path): \(Self.explain(error)); check that the data folder exists and is writable")
        }
        let committer = GroupCommitter(database: database, doorbell: outboxDoorbell, sticky: stickyDealers, logger: logger)
        self.committer = committer
        do {
            checkpointer = try Checkpointer(
                path: path, configuration: configuration, interval: options.checkpointInterval,
                committed: { committer.transactions.load(ordering: .relaxed) }, finish: { committer.finishCheckpoint() },
                logger: logger)
        } catch {
            throw StoreUnavailable("cannot open the state database at \(path) for checkpoints: \(Self.explain(error))")
        }
        self.logger = logger
    }

    /// A migration that copies every session says so first, with the count: on a store with years of
    /// sessions it can take a minute, and a silent daemon would look hung.
    private static func announceLongMigrations(_ migrator: DatabaseMigrator, _ database: DatabasePool, logger: Logger) throws {
        try database.read { db in
            guard try db.tableExists("session"), try !migrator.appliedIdentifiers(db).contains(Schema.sessionsKeyedByID) else { return }
            let sessions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM session") ?? 0
            guard sessions > 0 else { return }
            logger.notice("upgrading the state database: rebuilding the session table keyed by id, once", metadata: [
                "sessions": "\(sessions)", "migration": "\(Schema.sessionsKeyedByID)",
            ])
        }
    }

    /// Runs the group-commit writer and the checkpointer until cancelled; the daemon runs it as a service.
    public func run() async {
        async let loading: Void = loadLeaseHolders()
        async let checkpoints: Void = checkpointer.run()
        await committer.run()
        await checkpoints
        await loading
    }

    /// Reads every caller's sticky dealer into `stickyDealers` (off the caller's thread, on the reader pool) and
    /// keeps it up to date from then on. Until it returns, `stickyDealers` answers `.readStore`.
    public func loadStickyDealers() async throws(StoreUnavailable) {
        do {
            try await stickyDealers.load(from: database)
        } catch {
            throw StoreUnavailable("cannot read the sticky dealers: \(Self.explain(error))")
        }
    }

    public nonisolated(nonsending) func apply(_ writes: [StateWrite]) async throws(StoreUnavailable) {
        noteLeaseHolders(writes)
        try await committer.commit(writes)
    }

    /// Before the commit: a visitor in the filter too early costs one read, one missing would lose its number.
    private func noteLeaseHolders(_ writes: [StateWrite]) {
        for case .lease(let lease) in writes {
            leaseHolders.withLock { $0.filter.insert(lease.visitorID) }
        }
    }

    /// False only for a visitor that certainly never held a lease (once the filter is loaded).
    func mayHaveHeldLease(_ visitor: VisitorID) -> Bool {
        leaseHolders.withLock { !$0.loaded || $0.filter.mightContain(visitor) }
    }

    func loadLeaseHolders() async {
        do {
            try await database.read { [self] db in
                // A cursor over every lease (a visitor twice is harmless): years of leases need not fit in memory.
                let visitors = try String.fetchCursor(db, sql: "SELECT visitor_id FROM lease")
                while let visitor = try visitors.next() { leaseHolders.withLock { $0.filter.insert(visitor) } }
            }
            leaseHolders.withLock { $0.loaded = true }
        } catch {
            // Without the filter every allocation reads: slower, never wrong.
            logger.warning("lease holders not loaded; every allocation reads the previous number", metadata: [
                "error": "\(Self.explain(error))",
            ])
        }
    }

    public func session(_ id: SessionID) async throws(StoreUnavailable) -> SessionRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM session WHERE id = ?"), arguments: [id]).map(Rows.session)
        }
    }

    public nonisolated(nonsending) func previousNumber(of visitor: VisitorID, site: String) async throws(StoreUnavailable) -> PhoneNumber? {
        guard mayHaveHeldLease(visitor) else { return nil }
        return try await read { db in
            let raw = try String.fetchOne(db.cachedStatement(sql: Self.previousNumberSQL), arguments: [visitor, site])
            return raw.flatMap { try? PhoneNumber.e164($0) }
        }
    }

    /// The number of the visitor's latest session that held a pool number: a session row keeps the number
    /// of its last lease, and `session_by_visitor` finds the latest one.
    static let previousNumberSQL = """
        SELECT number FROM session WHERE visitor_id = ? AND site_id = ? AND kind = 'pool'
        ORDER BY started_at DESC LIMIT 1
        """

    public func recovery(pool: String, numbers: [PhoneNumber], at now: Timestamp, cooldown: Duration) async throws(StoreUnavailable) -> PoolRecovery {
        try await read { db in
            let nowMicros = now.microsecondsSinceEpoch
            // Per number, through lease_by_number: a pool index would cost every allocation a b-tree insert.
            let liveOnNumber = try db.cachedStatement(sql: """
                SELECT * FROM lease WHERE number = ? AND expires_at > ? AND (ended_at IS NULL OR ended_at > ?2) AND pool_id = ?
                """)
            var live: [Lease] = []
            for number in numbers {
                live += try Row.fetchAll(liveOnNumber, arguments: [number.e164, nowMicros, pool]).map(Rows.lease)
            }
            var releases: [PhoneNumber: (at: Timestamp, visitor: VisitorID)] = [:]
            // The last end of each number, and who held it: the LRU order and the stickiness survive a restart.
            let last = try db.cachedStatement(sql: """
                SELECT visitor_id, COALESCE(MIN(ended_at, expires_at), expires_at) AS released
                FROM lease WHERE number = ? ORDER BY expires_at DESC LIMIT 1
                """)
            for number in numbers {
                guard let row = try Row.fetchOne(last, arguments: [number.e164]) else { continue }
                releases[number] = (Timestamp(microsecondsSinceEpoch: row["released"]), row["visitor_id"])
            }
            return PoolRecovery(liveLeases: live, lastReleases: releases)
        }
    }

    public func leases(on number: PhoneNumber, from: Timestamp, to: Timestamp) async throws(StoreUnavailable) -> [Lease] {
        try await read { db in try Self.leases(on: number, from: from, to: to, db) }
    }

    /// Leases on `number` that overlap [from, to], newest first: the candidates of a call as it rings.
    static func leases(on number: PhoneNumber, from: Timestamp, to: Timestamp, _ db: Database) throws -> [Lease] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT * FROM lease WHERE number = ? AND expires_at >= ? AND started_at <= ?
            ORDER BY started_at DESC
            """), arguments: [number.e164, from.microsecondsSinceEpoch, to.microsecondsSinceEpoch]).map(Rows.lease)
    }

    public func recentCalls(limit: Int) async throws(StoreUnavailable) -> [CallRecord] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM call ORDER BY started_at DESC LIMIT ?"), arguments: [limit]).map(Rows.call)
        }
    }

    public func sites() async throws(StoreUnavailable) -> [StoredSite] {
        let rows = try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT definition, from_admin, retired_at FROM site ORDER BY id"))
                .map { (definition: $0["definition"] as String, fromAdmin: $0["from_admin"] as Bool, retired: $0["retired_at"] != nil) }
        }
        return rows.compactMap { row in
            Rows.site(row.definition).map { StoredSite(site: $0, fromAdmin: row.fromAdmin, retired: row.retired) }
        }
    }

    /// The writer connection's `PRAGMA synchronous`: 2 is FULL, 1 NORMAL (what commits really do).
    func writerSynchronous() throws -> Int {
        try database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The store writer thread's name in the kernel (`top -H`, perf, `/proc/self/task/*/comm`).
    public static var writerThreadName: String { GroupCommitter.threadName }

    /// Transactions the group committer has committed since open.
    public var committedTransactions: Int { committer.transactions.load(ordering: .relaxed) }

    /// Counts rows, for tests and diagnostics.
    public func count(_ table: String) async throws(StoreUnavailable) -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0 }
    }

    /// Every read runs on a reader connection's queue, never on the calling thread: callers are the event loops
    /// that serve HTTP, and a read there would stall every connection of that loop. The hop costs two thread
    /// wake-ups; the loop serves other requests meanwhile.
    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.read(body) } catch {
            throw StoreUnavailable("state database read failed: \(Self.explain(error))")
        }
    }

    static func explain(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_FULL: return "the disk (or the configured storage.max_size_mb) is full"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is locked by another process"
        case .SQLITE_READONLY: return "the database file is read-only"
        case .SQLITE_IOERR: return "an I/O error (disk failing or full)"
        case .SQLITE_CANTOPEN: return "the file cannot be opened"
        default: return error.message ?? "\(error.resultCode)"
        }
    }
}
