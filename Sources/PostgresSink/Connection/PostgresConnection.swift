import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL connection through libpq, owned by its own thread: libpq blocks, so its calls
/// never run on the Swift concurrency pool. Commands run one at a time, in the order posted.
///
/// ```swift
/// let pg = PostgresConnection("host=/run/postgresql dbname=crm", logger: logger) // PG* env vars fill the rest
/// let rows = try await pg.query("SELECT call_id FROM calltrack.lead WHERE site_id = $1", ["acme"])
/// try await pg.listen("calltrack_lead")
/// for await n in pg.notifications { print(n.payload) }   // lead ids
/// ```
/// The connection string is libpq's own (`key=value` or `postgresql://` URI), so `PGHOST`,
/// `PGPASSWORD`, `~/.pgpass`, TLS (`sslmode`) and multi-host failover work as DBAs expect.
/// A broken connection is re-opened by the next command.
public final class PostgresConnection: Sendable {
    public let notifications: AsyncStream<PostgresNotification>
    private let mailbox: Mailbox

    /// `setup` runs on every new connection (after a reconnect too), e.g. `SET statement_timeout = 30000`.
    public init(_ conninfo: String, setup: [String] = [], logger: Logger) {
        let (stream, continuation) = AsyncStream<PostgresNotification>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        notifications = stream
        let mailbox = Mailbox()
        self.mailbox = mailbox
        let thread = Thread {
            let session = PostgresSession(conninfo: conninfo, setup: setup, notifications: continuation, logger: logger)
            while true {
                let (jobs, closed) = mailbox.take()
                for job in jobs { job(session) }
                if closed { break }
                if jobs.isEmpty {
                    session.waitForWork(wakeFD: mailbox.wakeFD)
                    mailbox.drainWakeups()
                }
            }
            session.close()
            continuation.finish()
        }
        thread.name = "libpq"
        thread.start()
    }

    deinit { mailbox.close() }

    /// Runs `body` on the connection's thread with the synchronous session: for a transaction of
    /// several commands that nothing else may interleave with.
    @discardableResult
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws(PostgresError) -> T) async throws(PostgresError) -> T {
        let result: Result<T, PostgresError> = await withCheckedContinuation { continuation in
            let posted = mailbox.post { session in
                do throws(PostgresError) {
                    continuation.resume(returning: .success(try body(session)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !posted {
                continuation.resume(returning: .failure(PostgresError(kind: .connectionLost, message: "connection closed", advice: "the PostgreSQL connection was closed by the daemon")))
            }
        }
        return try result.get()
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = [], prepared: Bool = false) async throws(PostgresError) -> PostgresRows {
        try await query(sql, PostgresParameters(parameters), prepared: prepared)
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: PostgresParameters, prepared: Bool = false) async throws(PostgresError) -> PostgresRows {
        try await withSession { session throws(PostgresError) in try session.query(sql, parameters, prepared: prepared) }
    }

    public func execute(_ sql: String) async throws(PostgresError) {
        try await withSession { session throws(PostgresError) in try session.execute(sql) }
    }

    /// `LISTEN`s on `channel`; notifications arrive on `notifications`, also after a reconnect
    /// (those sent while the connection was down are lost, as with any `LISTEN`).
    public func listen(_ channel: String) async throws(PostgresError) {
        try await withSession { session throws(PostgresError) in try session.listen(channel) }
    }

    /// Closes the connection once the commands already posted have run.
    public func close() { mailbox.close() }
}

/// The queue of jobs for the connection thread, and a pipe that wakes it from `poll`.
private final class Mailbox: Sendable {
    typealias Job = @Sendable (PostgresSession) -> Void
    private struct State {
        var jobs: [Job] = []
        var closed = false
    }
    private let state = Mutex(State())
    let wakeFD: Int32
    private let signalFD: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fatalError("pipe() failed: out of file descriptors") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wakeFD = fds[0]
        signalFD = fds[1]
    }

    deinit {
        Glibc.close(wakeFD)
        Glibc.close(signalFD)
    }

    /// False when the connection is closed (the job is not run).
    func post(_ job: @escaping Job) -> Bool {
        let accepted = state.withLock { state in
            if state.closed { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { signal() }
        return accepted
    }

    func take() -> (jobs: [Job], closed: Bool) {
        state.withLock { state in
            defer { state.jobs.removeAll() }
            return (state.jobs, state.closed)
        }
    }

    func close() {
        state.withLock { $0.closed = true }
        signal()
    }

    func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeFD, &buffer, buffer.count) > 0 {}
    }

    private func signal() {
        var byte: UInt8 = 1
        _ = write(signalFD, &byte, 1)
    }
}
