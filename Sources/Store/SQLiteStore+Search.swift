import CallTrackCore
import GRDB

/// One place a text was found: which table, which column, how many rows.
public struct StoredOccurrence: Sendable, Hashable, CustomStringConvertible {
    public var table: String
    public var column: String
    public var text: String
    public var rows: Int
    public var description: String { "\(table).\(column) holds '\(text)' in \(rows) row(s)" }
}

extension SQLiteStore {
    /// Every table and column of the database that holds any of `texts` (as a substring of the column's text),
    /// found from the catalog (`sqlite_master`, `table_info`), not from a list: an audit that a person's data is
    /// gone (after `LeadLedger.erase`) sees a table added after it was written. Reads every row; for audits and
    /// tests, not for the serving path.
    public func occurrences(of texts: some Collection<String>) async throws(StoreUnavailable) -> [StoredOccurrence] {
        let texts = Array(texts)
        do {
            return try await database.read { db in
                var found: [StoredOccurrence] = []
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                for table in tables {
                    let quoted = "\"\(table.replacingOccurrences(of: "\"", with: "\"\""))\""
                    let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).map { $0["name"] as String }
                    for column in columns {
                        let field = "\"\(column.replacingOccurrences(of: "\"", with: "\"\""))\""
                        for text in texts {
                            let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted) WHERE instr(CAST(\(field) AS TEXT), ?) > 0",
                                                        arguments: [text]) ?? 0
                            if rows > 0 { found.append(StoredOccurrence(table: table, column: column, text: text, rows: rows)) }
                        }
                    }
                }
                return found
            }
        } catch {
            throw StoreUnavailable("cannot search the state database: \(Self.explain(error))")
        }
    }
}
