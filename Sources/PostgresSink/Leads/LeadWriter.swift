import CallTrackCore
import Synchronization

/// Writes leads into `calltrack.lead`: one upsert per batch, keyed by call id, never going back to an
/// older revision; every lead that changed gets its CRM sync state set to pending and one `NOTIFY` with
/// its call id, all in the same statement (one round trip, one commit). The rows travel as one binary
/// array per column, taken apart by `unnest` on the server: one prepared statement for every batch
/// size, and a few long parameters instead of 28 per row.
///
/// ```sql
/// WITH changed AS (INSERT INTO lead … SELECT u.call_id, … FROM unnest($1::text[], …) AS u(…) ON CONFLICT (call_id)
///                  DO UPDATE SET … WHERE lead.revision < EXCLUDED.revision RETURNING call_id),
///      sync AS (INSERT INTO crm_sync (lead_id) SELECT call_id FROM changed ON CONFLICT … pending)
/// SELECT count(*) FROM (SELECT pg_notify($31, call_id) FROM changed) n
/// ```
public struct LeadWriter: Sendable {
    public let schema: PostgresSchema
    /// Most rows in one statement: bounds a batch's memory and the wait of the first lead in it.
    public static let maxRowsPerStatement = 1000
    private let deliveryStatement: String
    private let plainStatements = StatementCache()

    public init(schema: PostgresSchema) {
        self.schema = schema
        deliveryStatement = Self.unnestStatement(schema)
    }

    /// Upserts `leads` (at most `maxRowsPerStatement`; of one call id, the highest revision wins) and
    /// returns how many leads changed. Replays of a revision already stored change nothing.
    @discardableResult
    public func upsert(_ leads: [Lead], in session: PostgresSession) throws(PostgresError) -> Int {
        try upsert(LeadRows(leads), in: session)
    }

    /// Upserts rows prepared beforehand (off the connection's thread, while it writes the previous batch).
    @discardableResult
    public func upsert(_ rows: LeadRows, in session: PostgresSession) throws(PostgresError) -> Int {
        guard rows.count > 0 else { return 0 }
        var parameters = rows.columns
        parameters.append(schema.channel)
        let result = try session.query(deliveryStatement, parameters, prepared: true)
        return result.scalar().flatMap { Int($0) } ?? 0
    }

    /// A multi-row `VALUES` upsert without CRM sync state and `NOTIFY`: what a plain writer would do
    /// (the benchmark's baseline, as the issue defines it).
    public func plainUpsert(_ leads: [Lead], in session: PostgresSession) throws(PostgresError) {
        let rows = LeadRows(leads)
        guard rows.count > 0 else { return }
        var parameters = PostgresParameters()
        parameters.reserve(values: rows.count * Self.columns.count, bytes: rows.count * 1200)
        for row in rows.rows { row.appendPostgresColumns(to: &parameters) }
        let sql = plainStatements.sql(rows: rows.count) { valuesStatement(rows: rows.count) }
        try session.query(sql, parameters, prepared: true)
    }

    /// The lead table's columns as the writer fills them, with their types (for the arrays `unnest` takes apart).
    static let typedColumns: [(name: String, type: PostgresElementType)] = [
        ("call_id", .text), ("revision", .bigint), ("site_id", .text), ("tracking_number", .text),
        ("caller", .text), ("caller_name", .text),
        ("started_at", .timestamptz), ("answered_at", .timestamptz), ("ended_at", .timestamptz),
        ("disposition", .text), ("answered_by", .text), ("talk_seconds", .integer), ("ring_seconds", .integer),
        ("match_kind", .text), ("match_confidence", .doublePrecision), ("candidate_count", .integer),
        ("match_explanation", .jsonb), ("visitor_id", .text), ("session_id", .text), ("user_agent", .text),
        ("first_touch", .jsonb), ("last_touch", .jsonb), ("journey", .jsonb),
        ("dealer_id", .text), ("is_lead", .boolean), ("junk_reason", .text), ("repeat_of", .text), ("updated_at", .timestamptz),
        ("dealer_rule", .text), ("dealer_reason", .text),
        ("called_back_at", .timestamptz), ("deal_stage", .text), ("outcomes", .jsonb),
    ]
    static let columns = typedColumns.map(\.name)

    /// The upsert of `rows` (a `VALUES` list or a `SELECT`) into the lead table.
    static func upsert(into schema: PostgresSchema, rows: String) -> String {
        let updates = columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO \(schema.qualified("lead")) AS l (\(columns.joined(separator: ", "))) \(rows)
            ON CONFLICT (call_id) DO UPDATE SET \(updates), written_at = now()
            WHERE l.revision < EXCLUDED.revision
            """
    }

    static let columnTypes = typedColumns.map(\.type)

    /// The delivery statement: the batch as arrays, CRM sync state, one `NOTIFY` per changed lead.
    static func unnestStatement(_ schema: PostgresSchema) -> String {
        let arrays = typedColumns.enumerated().map { "$\($0.offset + 1)::\($0.element.type.sqlName)[]" }.joined(separator: ", ")
        let rows = "SELECT * FROM unnest(\(arrays)) AS u(\(columns.joined(separator: ", ")))"
        return """
            WITH changed AS (\(upsert(into: schema, rows: rows)) RETURNING l.call_id),
            sync AS (
                INSERT INTO \(schema.qualified("crm_sync")) AS s (lead_id) SELECT call_id FROM changed
                ON CONFLICT (lead_id) DO UPDATE SET state = 'pending', attempts = 0, last_error = NULL, updated_at = now()
                WHERE s.state <> 'pending'
            )
            SELECT count(*) FROM (SELECT pg_notify($\(typedColumns.count + 1), call_id) FROM changed) notified
            """
    }

    /// The plain baseline's SQL for `rows` rows of `VALUES`.
    func valuesStatement(rows: Int) -> String {
        let width = Self.columns.count
        var values = ""
        values.reserveCapacity(rows * width * 6)
        for row in 0..<rows {
            values += row == 0 ? "(" : ",("
            for column in 0..<width {
                if column > 0 { values += "," }
                values += "$\(row * width + column + 1)"
            }
            values += ")"
        }
        return Self.upsert(into: schema, rows: "VALUES \(values)")
    }
}

/// Leads ready for one upsert: one per call id (the highest revision, at the place the call was first
/// seen), as one array parameter per column.
public struct LeadRows: Sendable {
    public let count: Int
    let rows: [Lead]
    let columns: PostgresParameters

    public init(_ leads: [Lead]) {
        var position: [String: Int] = [:]
        var rows: [Lead] = []
        rows.reserveCapacity(leads.count)
        for lead in leads {
            if let index = position[lead.callID] {
                if lead.revision >= rows[index].revision { rows[index] = lead }
            } else {
                position[lead.callID] = rows.count
                rows.append(lead)
            }
        }
        var columns = PostgresArrayColumns(types: LeadWriter.columnTypes, reservingBytes: rows.count * 1300)
        for row in rows { row.appendPostgresColumns(to: &columns) }
        self.count = rows.count
        self.rows = rows
        self.columns = columns.parameters
    }
}

/// The plain baseline's SQL text per row count: a 1,000-row statement is 200 KB of text, built once.
private final class StatementCache: Sendable {
    private let cache = Mutex<[Int: String]>([:])

    func sql(rows: Int, build: () -> String) -> String {
        if let sql = cache.withLock({ $0[rows] }) { return sql }
        let sql = build()
        cache.withLock { $0[rows] = sql }
        return sql
    }
}
