/// The rows a command returned, as text (libpq's text format), plus the affected-row count.
public struct PostgresRows: Sendable, Hashable {
    public var columns: [String]
    public var rows: [[String?]]
    /// Rows inserted, updated or deleted (`PQcmdTuples`); 0 when the command does not say.
    public var affectedRows: Int

    public init(columns: [String] = [], rows: [[String?]] = [], affectedRows: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The value of `column` in the first row, for one-value queries.
    public func scalar(_ column: Int = 0) -> String? {
        rows.first.flatMap { column < $0.count ? $0[column] : nil }
    }

    /// All values of one column, by name.
    public func column(_ name: String) -> [String?] {
        guard let index = columns.firstIndex(of: name) else { return [] }
        return rows.map { $0[index] }
    }
}

/// A `NOTIFY` received by a connection that `LISTEN`s.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// Process id of the server backend that sent it.
    public var senderPID: Int32
}
