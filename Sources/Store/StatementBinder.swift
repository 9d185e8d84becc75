import GRDB
import GRDBSQLite

/// Binds values straight into a cached statement, then runs it through GRDB (which keeps its transaction
/// bookkeeping and error handling).
///
/// `StatementArguments` boxes every value as a `DatabaseValue` in an array of existentials. A session row
/// has 24 values, so on the store writer thread that boxing and its releases cost as much as SQLite's own
/// work on the row. This is for the writes of every allocation; everything else uses GRDB's arguments.
struct StatementBinder: ~Copyable {
    private let statement: Statement
    private var index: CInt = 0
    /// The first bind that failed (out of memory, or more values than parameters), thrown by `execute`.
    private var failure: CInt = SQLITE_OK

    init(_ statement: Statement) {
        // No arguments set, all bindings cleared: `execute()` then runs with exactly what we bind.
        statement.setUncheckedArguments(StatementArguments())
        self.statement = statement
    }

    mutating func bind(_ value: String?) {
        index += 1
        guard var value else { return }  // left NULL by the reset
        let code = value.withUTF8 { bytes in
            // An empty buffer may have no address, and a NULL pointer would bind NULL, not ''.
            bytes.isEmpty
                ? sqlite3_bind_text(statement.sqliteStatement, index, "", 0, transient)
                : sqlite3_bind_text(statement.sqliteStatement, index, bytes.baseAddress, CInt(bytes.count), transient)
        }
        note(code)
    }

    mutating func bind(_ value: Int64?) {
        index += 1
        guard let value else { return }
        let code = sqlite3_bind_int64(statement.sqliteStatement, index, value)
        note(code)
    }

    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    private mutating func note(_ code: CInt) {
        if code != SQLITE_OK && failure == SQLITE_OK { failure = code }
    }

    consuming func execute() throws {
        let parameters = sqlite3_bind_parameter_count(statement.sqliteStatement)
        guard failure == SQLITE_OK, index == parameters else {
            throw DatabaseError(
                resultCode: failure == SQLITE_OK ? .SQLITE_MISUSE : ResultCode(rawValue: failure),
                message: "\(index) values bound for \(parameters) parameters", sql: statement.sql)
        }
        try statement.execute()
    }
}

/// SQLite copies the bytes before the call returns: the Swift string need not outlive it.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
