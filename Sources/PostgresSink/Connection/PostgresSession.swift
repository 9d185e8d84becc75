import CLibPQ
import CallTrackCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection, used only on the thread of its `PostgresConnection` (so it is not
/// `Sendable`). Reconnects on the next command after the connection broke, re-`LISTEN`s and
/// prepares statements again on the new connection.
public final class PostgresSession {
    private let conninfo: String
    /// Run on every new connection, e.g. `SET statement_timeout = 30000`.
    private let setup: [String]
    private let logger: Logger
    private let notifications: AsyncStream<PostgresNotification>.Continuation
    private var connection: OpaquePointer?
    /// SQL text → server-side statement name, on the current connection.
    private var prepared: [String: String] = [:]
    private var nextStatement = 0
    private var listening: [String] = []
    /// Whether the last attempt failed, so a lasting outage is logged once, not per attempt.
    private var lastConnectFailure: String?

    init(conninfo: String, setup: [String], notifications: AsyncStream<PostgresNotification>.Continuation, logger: Logger) {
        self.conninfo = conninfo
        self.setup = setup
        self.notifications = notifications
        self.logger = logger
    }

    deinit { close() }

    /// Runs one command with `$1…$n` parameters. `prepared: true` parses it once per connection
    /// (worth it for the big multi-row upserts that run again and again).
    @discardableResult
    public func query(_ sql: String, _ parameters: PostgresParameters = PostgresParameters(), prepared: Bool = false) throws(PostgresError) -> PostgresRows {
        let connection = try connected()
        let result: OpaquePointer?
        if prepared {
            let name = try statementName(for: sql, parameterCount: parameters.count, on: connection)
            result = parameters.withValuePointers { PQexecPrepared(connection, name, Int32(parameters.count), $0.values, $0.lengths, $0.formats, 0) }
        } else {
            result = parameters.withValuePointers { PQexecParams(connection, sql, Int32(parameters.count), nil, $0.values, $0.lengths, $0.formats, 0) }
        }
        defer { PQclear(result) }
        deliverNotifications()
        return try rows(of: result, on: connection)
    }

    /// Runs one or more `;`-separated statements without parameters (simple protocol); for schema changes.
    public func execute(_ sql: String) throws(PostgresError) {
        let connection = try connected()
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        deliverNotifications()
        _ = try rows(of: result, on: connection)
    }

    /// Subscribes this connection to `channel`; kept across reconnects.
    public func listen(_ channel: String) throws(PostgresError) {
        if !listening.contains(channel) { listening.append(channel) }
        try execute("LISTEN \(Self.quoteIdentifier(channel))")
    }

    /// Connects now if not connected; commands do it themselves.
    public func connect() throws(PostgresError) { _ = try connected() }

    public var isConnected: Bool { connection.map { PQstatus($0) == CONNECTION_OK } ?? false }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
        prepared = [:]
    }

    /// `"name"` with embedded quotes doubled.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - Waiting for work and notifications

    /// Blocks until `wakeFD` is readable (a job was posted) or, when listening, a notification arrives.
    /// A listener that lost its connection tries again every `retry`.
    func waitForWork(wakeFD: Int32, retry: Duration = .milliseconds(250)) {
        var fds = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        var timeout: Int32 = -1
        if !listening.isEmpty {
            if let connection, PQstatus(connection) == CONNECTION_OK {
                fds.append(pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0))
            } else {
                timeout = Int32(retry.microseconds / 1000)
            }
        }
        let ready = poll(&fds, nfds_t(fds.count), timeout)
        if ready == 0, !listening.isEmpty { _ = try? connected() }
        if fds.count > 1, fds[1].revents != 0, let connection {
            if PQconsumeInput(connection) == 0 {
                logger.info("postgres listener lost its connection", metadata: ["postgres.error": "\(Self.message(connection))"])
                close()
            } else {
                deliverNotifications()
            }
        }
    }

    private func deliverNotifications() {
        guard let connection else { return }
        while let notify = PQnotifies(connection) {
            let received = PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                senderPID: notify.pointee.be_pid)
            PQfreemem(notify)
            notifications.yield(received)
        }
    }

    // MARK: - Connecting

    private func connected() throws(PostgresError) -> OpaquePointer {
        if let connection {
            if PQstatus(connection) == CONNECTION_OK, !closedWhileIdle(connection) { return connection }
            close()
        }
        let attempt = PQconnectdb(conninfo)
        guard let attempt, PQstatus(attempt) == CONNECTION_OK else {
            let error = PostgresError.connect(
                message: Self.message(attempt), usedPassword: attempt.map { PQconnectionUsedPassword($0) != 0 } ?? false,
                neededPassword: attempt.map { PQconnectionNeedsPassword($0) != 0 } ?? false,
                target: Self.target(attempt))
            if let attempt { PQfinish(attempt) }
            if lastConnectFailure != error.description {
                logger.debug("postgres connection failed", metadata: ["postgres.error": "\(error)"])
                lastConnectFailure = error.description
            }
            throw error
        }
        connection = attempt
        lastConnectFailure = nil
        // Server NOTICEs ("schema already exists, skipping") would go to stderr otherwise.
        PQsetNoticeProcessor(attempt, { _, _ in }, nil)
        logger.debug("postgres connected", metadata: ["postgres.server": "\(Self.target(attempt))"])
        do throws(PostgresError) {
            for command in setup + listening.map({ "LISTEN \(Self.quoteIdentifier($0))" }) {
                let result = PQexec(attempt, command)
                defer { PQclear(result) }
                _ = try rows(of: result, on: attempt)
            }
        } catch {
            close() // a connection without its settings is not used
            throw error
        }
        return attempt
    }

    /// Whether the server closed this idle connection (a restart, an admin's terminate): then the
    /// next command goes to a new connection instead of failing on the dead one.
    private func closedWhileIdle(_ connection: OpaquePointer) -> Bool {
        // A terminated backend sends an error, then closes: each read takes one of them.
        for _ in 0..<4 {
            var fd = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            guard poll(&fd, 1, 0) > 0 else { return false }
            if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK { return true }
            deliverNotifications()
        }
        return false
    }

    private func statementName(for sql: String, parameterCount: Int, on connection: OpaquePointer) throws(PostgresError) -> String {
        if let name = prepared[sql] { return name }
        nextStatement += 1
        let name = "ct_\(nextStatement)"
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        _ = try rows(of: result, on: connection)
        prepared[sql] = name
        return name
    }

    // MARK: - Results

    private func rows(of result: OpaquePointer?, on connection: OpaquePointer) throws(PostgresError) -> PostgresRows {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(affectedRows: Self.affected(result))
        case PGRES_TUPLES_OK:
            guard let result else { return PostgresRows() }
            let fields = PQnfields(result), count = PQntuples(result)
            let columns = (0..<fields).map { String(cString: PQfname(result, $0)) }
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(count))
            for row in 0..<count {
                rows.append((0..<fields).map { field in
                    PQgetisnull(result, row, field) != 0 ? nil : String(cString: PQgetvalue(result, row, field))
                })
            }
            return PostgresRows(columns: columns, rows: rows, affectedRows: Int(count))
        default:
            let field = { (code: UInt8) -> String? in
                guard let result, let value = PQresultErrorField(result, Int32(code)) else { return nil }
                return String(cString: value)
            }
            let broken = PQstatus(connection) != CONNECTION_OK
            let error = PostgresError.server(
                sqlState: field(UInt8(ascii: "C")),
                message: field(UInt8(ascii: "M")) ?? Self.message(connection),
                detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")),
                connectionBroken: broken)
            if broken { close() }
            throw error
        }
    }

    private static func affected(_ result: OpaquePointer?) -> Int {
        guard let result, let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    private static func message(_ connection: OpaquePointer?) -> String {
        guard let connection, let text = PQerrorMessage(connection) else { return "out of memory in libpq" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func target(_ connection: OpaquePointer?) -> String {
        guard let connection else { return "the configured server" }
        let host = PQhost(connection).map { String(cString: $0) } ?? "?"
        let port = PQport(connection).map { String(cString: $0) } ?? "?"
        return "\(host):\(port)"
    }
}
